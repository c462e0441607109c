"""``fulfillments/create`` and ``fulfillments/update`` bodies -> :class:`FulfillmentData`: the
fulfillment's status and shipment status, its carrier, and its tracking numbers and URLs, merged
from the singular fields and their plural lists. Field reading rules:
:mod:`connectors.shopify.webhook_fields`.
"""

from __future__ import annotations

from typing import Any

from connectors.shopify.webhook_fields import Body, code_of
from integration.domain.orders import FulfillmentData


def parse_fulfillment(payload: Any) -> FulfillmentData:
    body = Body(payload, "fulfillment")
    numbers, urls = [], []
    for key, max_len, found in (("tracking_number", 255, numbers), ("tracking_url", 2048, urls)):
        single = body.code(key, max_len)
        plural = [code_of(v, f"{body.at(key)}s[{i}]", max_len) for i, v in enumerate(body.items(key + "s", 50) or [])]
        # The singular field is the first of the list; keep both, first, without repeats.
        for value in (single, *plural):
            if value and value not in found:
                found.append(value)
    return FulfillmentData(
        external_id=body.gid("Fulfillment"),
        updated_at=body.required_timestamp("updated_at"),
        order_external_id=body.optional_gid("Order", "order_id"),
        status=body.code("status", 32),
        shipment_status=body.code("shipment_status", 32),
        tracking_company=body.text("tracking_company", 255),
        tracking_numbers=tuple(numbers),
        tracking_urls=tuple(urls),
        name=body.text("name", 64),
        created_at=body.timestamp("created_at"),
    )
