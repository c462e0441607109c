"""Insights: the warehouse as market sensor - demand history, shifts, restock and transfer
suggestions, inbound shipments, test-sale gates."""
