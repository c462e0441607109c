"""The inbound-event path: store every webhook first (group commit), then dispatch it to its handler."""
