"""Fixtures around the Shopify emulator (owned by sandbox/shopify)."""
