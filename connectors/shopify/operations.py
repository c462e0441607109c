"""Every Shopify operation, in one namespace.

Each takes a :class:`~connectors.shopify.client.ShopifyClient` and returns the dataclasses of
:mod:`integration.domain.channels`; the code lives in one module per object::

    from connectors.shopify import operations as shopify
    result = shopify.set_inventory(client, "available", "correction", changes, key)

Services do not call these: they hold a :class:`~connectors.shopify.channel.ShopifyChannel`,
which calls them through this namespace.
"""

from connectors.shopify.analytics import get_product_traffic
from connectors.shopify.bulk import (
    get_bulk_operation,
    iter_bulk_results,
    iter_variant_stock,
    run_bulk_query,
    run_variant_stock_export,
    wait_for_bulk_operation,
)
from connectors.shopify.catalog import (
    get_product_variants,
    get_variants,
    get_variants_by_inventory_items,
    iter_locations,
    iter_variants,
    set_metafields,
)
from connectors.shopify.discounts import (
    create_basic_discount_code,
    create_free_shipping_code,
    get_discount_code,
)
from connectors.shopify.fulfillment import (
    create_fulfillment,
    create_fulfillment_event,
    find_fulfillment_by_tracking,
    get_fulfillment_events,
    get_fulfillment_orders,
    update_tracking,
)
from connectors.shopify.inventory import get_inventory_levels, set_inventory
from connectors.shopify.returns import (
    approve_return,
    create_reverse_delivery,
    decline_return,
    get_return,
    get_returnable_lines,
    process_return,
    request_return,
)
from connectors.shopify.shop import get_shop_profile

__all__ = [
    "approve_return",
    "create_basic_discount_code",
    "create_free_shipping_code",
    "create_fulfillment",
    "create_fulfillment_event",
    "create_reverse_delivery",
    "decline_return",
    "find_fulfillment_by_tracking",
    "get_bulk_operation",
    "get_discount_code",
    "get_fulfillment_events",
    "get_fulfillment_orders",
    "get_inventory_levels",
    "get_product_traffic",
    "get_product_variants",
    "get_return",
    "get_returnable_lines",
    "get_shop_profile",
    "get_variants",
    "get_variants_by_inventory_items",
    "iter_bulk_results",
    "iter_locations",
    "iter_variant_stock",
    "iter_variants",
    "process_return",
    "request_return",
    "run_bulk_query",
    "run_variant_stock_export",
    "set_inventory",
    "set_metafields",
    "update_tracking",
    "wait_for_bulk_operation",
]
