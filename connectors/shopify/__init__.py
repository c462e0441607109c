"""Shopify Admin API (GraphQL, version pinned in :mod:`connectors.shopify.client`), OAuth and
signature checks."""

API_VERSION = "2026-07"
