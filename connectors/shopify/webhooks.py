"""Webhook subscriptions made through the API (per shop), e.g. topics not declared in
``shopify.app.toml``. https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/webhookSubscriptionCreate
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.shopify import mapping
from connectors.shopify.client import ShopifyClient
from integration.domain.channels import WebhookSubscription


def create_webhook_subscription(
    client: ShopifyClient,
    topic: str,
    uri: str,
    *,
    include_fields: Sequence[str] | None = None,
    filter: str | None = None,
) -> WebhookSubscription:
    """Subscribe ``uri`` (HTTPS URL, ``pubsub://`` or EventBridge ARN) to ``topic``
    (``WebhookSubscriptionTopic``, e.g. ``ORDERS_CREATE``). JSON format; ``uri`` replaces the
    deprecated ``callbackUrl``."""
    subscription: dict = {"uri": uri, "format": "JSON"}
    if include_fields:
        subscription["includeFields"] = list(include_fields)
    if filter:
        subscription["filter"] = filter
    data = client.execute("WebhookSubscriptionCreate", {"topic": topic, "webhookSubscription": subscription})
    return mapping.webhook_subscription(data["webhookSubscriptionCreate"]["webhookSubscription"])
