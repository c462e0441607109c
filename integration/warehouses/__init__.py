"""The merchant's warehouses: 3PL accounts and credentials, per-warehouse settings, routing rules."""
