"""Builds the SP-API client of an Amazon seller account in one of its marketplaces, and the
AmazonSeller port over it. Clients are cached per process (their LWA token and throttle state
are worth keeping) and shared by threads. Builds too the AmazonAuthorizer of this deployment's
application, through which sellers connect their accounts."""

from __future__ import annotations

import functools
import hashlib
import threading

from connectors.amazon.authorizer import SellerAuthorizer
from connectors.amazon.channel import AmazonChannel
from connectors.amazon.client import LwaCredentials, SpApiClient
from connectors.errors import PermanentError
from integration.call_log import record_call
from integration.config import Config
from integration.domain.ports import AmazonAuthorizer, AmazonSeller
from integration.extensions import redis
from integration.models.amazon import AmazonAccount

_clients: dict[tuple, SpApiClient] = {}
_clients_lock = threading.Lock()


def client_for(account: AmazonAccount, marketplace_id: str | None = None) -> SpApiClient:
    """A (cached, thread-safe) SP-API client of the account in one of its marketplaces."""
    marketplace_id = marketplace_id or (account.marketplaces or [None])[0]
    if not marketplace_id:
        raise PermanentError(f"Amazon account {account.id} has no marketplace", code="no_marketplace",
                             system="amazon")
    # Keyed by a digest of the secrets too: re-authorizing the account gets a fresh client.
    digest = hashlib.sha256(f"{account.lwa_client_id}\0{account.lwa_client_secret}\0{account.refresh_token}"
                            .encode()).hexdigest()
    key = (account.id, marketplace_id, account.endpoint, account.lwa_token_url, digest, id(redis.client))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = SpApiClient(
                LwaCredentials(account.lwa_client_id, account.lwa_client_secret, account.refresh_token),
                selling_partner_id=account.seller_id, marketplace_id=marketplace_id, redis=redis.client,
                endpoint=account.endpoint, token_url=account.lwa_token_url,
                on_call=functools.partial(record_call, account.shop_id))
            _clients[key] = client
    return client


def close_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def seller_for(account: AmazonAccount, marketplace_id: str | None = None) -> AmazonSeller:
    return AmazonChannel(client_for(account, marketplace_id))


def authorizer_for(config: Config) -> AmazonAuthorizer:
    credentials = LwaCredentials(config.amazon_lwa_client_id, config.amazon_lwa_client_secret)
    return SellerAuthorizer(config.amazon_application_id, credentials, token_url=lwa_token_url(config),
                            beta=config.amazon_draft_app, seller_central_url=config.amazon_endpoint or None)


def lwa_token_url(config: Config) -> str | None:
    """The LWA token URL of the configured Amazon endpoint (the emulator); None: Amazon's own."""
    return f"{config.amazon_endpoint}/auth/o2/token" if config.amazon_endpoint else None
