"""Amazon as a sales channel: connecting a seller account, orders in, shipments confirmed."""
