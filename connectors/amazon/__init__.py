"""Amazon Selling Partner API connector (python-amazon-sp-api underneath).

* :mod:`.client`: ``SpApiClient`` per seller account and marketplace, LWA tokens, error mapping;
* :mod:`.throttle`: per-operation token buckets in Redis, QuotaExceeded retry;
* :mod:`.orders`: order polling (Orders API v2026-01-01) -> ``OrderData``;
* :mod:`.listings`: MFN quantities by ``patchListingsItem`` or ``JSON_LISTINGS_FEED``;
* :mod:`.shipments`: ``confirmShipment`` per package;
* :mod:`.auth`: seller authorization (consent URL, ``spapi_oauth_code`` exchange);
* :mod:`.channel`: ``AmazonChannel``, the ``AmazonSeller`` port over the modules above;
* :mod:`.authorizer`: ``SellerAuthorizer``, the ``AmazonAuthorizer`` port over :mod:`.auth`.

FBA (inventory, multi-channel fulfillment) is a warehouse provider: :mod:`connectors.warehouses.fba`.
"""

from .client import LwaCredentials, SpApiClient

__all__ = ["LwaCredentials", "SpApiClient"]
