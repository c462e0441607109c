"""Loyalty: the points ledger, earning from shipments, tiers, rewards as discount codes, expiry."""
