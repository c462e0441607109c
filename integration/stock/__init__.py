"""Stock: warehouse counts into the ledger, then out to Shopify and Amazon, with nightly reconciliation."""
