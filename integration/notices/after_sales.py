"""After-sales notices: what their context holds, and the customer's "your order is delayed".

The returns flows enqueue these kinds with :func:`integration.notices.outbox.enqueue_notice`,
``locale=order.locale``, the order's keys (:func:`order_context`: ``order_id`` also gives the
notice its tracking-page link) plus (* required, checked by :mod:`required_context`; ``items``
are ``[{title*, quantity*, sku}]``):

====================  ======================================  ==========================================
kind                  subject                                 context
====================  ======================================  ==========================================
return_approved       ``return:<id>``                         return_id*, rma*, items*, return_by* (ISO
                                                              date), address {name, address1*,
                                                              address2, city*, zip, province,
                                                              country_code*} or label_url (one of them*)
return_declined       ``return:<id>``                         return_id*, items*, reason* (Shopify's
                                                              ReturnDeclineReason, lower case), note
return_received       ``return:<id>``                         return_id*, items*, rma
return_inspecting     ``return:<id>``                         return_id*, items*, rma
replacement_shipped   ``return:<id>`` / ``reship:<id>``       items*, carrier, tracking_number,
                                                              tracking_url, estimate {from, to}
refund_processed      ``return:<id>``                         amount* (decimal string), currency*, items*
claim_opened          ``claim:<id>``                          claim_id*, kind* (lost | damaged |
                                                              missing_part), items*
claim_settled         ``claim:<id>``                          claim_id*, outcome* (reshipped | refunded
                                                              | rejected), items*
order_delayed         ``order:<id>:delayed:<ship-by date>``   ship_by*, new_estimate {from, to},
                                                              warehouse_country (built here)
====================  ======================================  ==========================================

Return notices leave Shopify's own mail off: approve with ``notifyCustomer: false`` (its default),
or the customer hears it twice.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import structlog

from integration.extensions import db
from integration.models import Order, OutboundOrder, Warehouse
from integration.notices import outbox as notifications
from integration.notices.triggers import add_business_days, first_name, transit_window

log = structlog.get_logger(__name__)


def order_context(order: Order) -> dict[str, Any]:
    """The order's keys every customer notice carries."""
    return {"order_id": order.id, "order_name": order.name or f"#{order.external_id}",
            "customer_name": first_name(order)}


def delayed_estimate(warehouse: Warehouse | None, country: str | None, today: date) -> dict[str, str] | None:
    """When a late order should now arrive: a fresh handling time from today, then the
    warehouse's transit window to the customer's country (what the shipped notice counts from
    the day it ships). None when the warehouse has no transit time for that country."""
    window = transit_window(warehouse, country)
    if window is None or warehouse is None:
        return None
    ships = add_business_days(today, max(1, math.ceil((warehouse.handling_hours or 24) / 24)))
    return {"from": add_business_days(ships, window[0]).isoformat(),
            "to": add_business_days(ships, window[1]).isoformat()}


def on_ship_by_missed(outbound_id: int, noticed_at: datetime, **_: Any) -> int | None:
    """An outbound order was not shipped by its ship-by: tell the customer, in their language,
    with a new estimate. Once per order and ship-by day (the subject), whichever of the order's
    outbound orders is late and however often the check runs."""
    outbound = db.session.get(OutboundOrder, outbound_id)
    if outbound is None or outbound.sla_due_at is None:
        return None
    order = db.session.get(Order, outbound.order_id)
    if order is None or not order.email or order.cancelled_at is not None:
        return None
    warehouse = db.session.get(Warehouse, outbound.warehouse_id)
    ship_by = outbound.sla_due_at.date().isoformat()
    context = {**order_context(order), "ship_by": ship_by,
               "warehouse_country": warehouse.country_code if warehouse is not None else None}
    estimate = delayed_estimate(warehouse, order.shipping_country, noticed_at.date())
    if estimate is not None:
        context["new_estimate"] = estimate
    subject = f"order:{order.id}:delayed:{ship_by}"
    nid = notifications.enqueue_notice(order.shop_id, "order_delayed", subject, order.email, locale=order.locale,
                                       context=context)
    if nid:
        log.info("notice.created", kind="order_delayed", subject=subject, notification_id=nid)
    return nid
