"""The storefront's live stock status: computed from the ledger, cached for the app proxy, back-in-stock."""
