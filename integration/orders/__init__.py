"""Orders: allocation to warehouses, outbound orders, shipments, Shopify fulfillments, carrier tracking."""
