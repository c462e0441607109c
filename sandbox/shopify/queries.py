"""Resolvers for the query root and for object fields that need a lookup or a computation.

``RESOLVERS[(type, field)]`` is bound onto the schema by :mod:`.graphql_api`; every other field is
read straight from the record dict by graphql-core's default resolver.
"""

from __future__ import annotations

import json

from .connection import matches, paginate, parse_search
from .state import QUANTITY_NAMES, legacy_id

RESOLVERS: dict[tuple[str, str], object] = {}


def resolver(type_name: str, field: str):
    def register(fn):
        RESOLVERS[(type_name, field)] = fn
        return fn
    return register


def _shop(info):
    return info.context.shop


def _records(info, ids: list[str]) -> list[dict]:
    shop = _shop(info)
    return [shop.nodes[i] for i in ids if i in shop.nodes]


def _unbounded(info) -> bool:
    return bool(getattr(info.context, "bulk", False))


def page(info, items, args):
    return paginate(items, args, unbounded=_unbounded(info))


# -- query root ----------------------------------------------------------------------------------

@resolver("QueryRoot", "shop")
def shop(_root, info):
    return _shop(info).record


@resolver("QueryRoot", "locations")
def locations(_root, info, **args):
    items = [r for r in _records(info, _shop(info).locations)
             if r["isActive"] or args.get("includeInactive")]
    terms = parse_search(args.get("query"))
    items = [r for r in items if matches({"name": r["name"], "id": legacy_id(r["id"]),
                                          "active": str(r["isActive"]).lower()}, terms)]
    return page(info, items, args)


@resolver("QueryRoot", "location")
def location(_root, info, id=None):
    if id is None:  # the shop's primary location
        ids = _shop(info).locations
        return _shop(info).nodes[ids[0]] if ids else None
    return _shop(info).get(id, "Location")


def _product_values(p: dict, shop) -> dict:
    skus = [shop.nodes[v]["sku"] for v in p["_variants"]]
    return {"title": p["title"], "handle": p["handle"], "status": p["status"],
            "vendor": p["vendor"], "id": str(legacy_id(p["id"])), "sku": " ".join(skus),
            "product_type": p["productType"], "updated_at": p["updatedAt"],
            "created_at": p["createdAt"]}


@resolver("QueryRoot", "products")
def products(_root, info, **args):
    shop_ = _shop(info)
    terms = parse_search(args.get("query"))
    items = [p for p in _records(info, shop_.products) if matches(_product_values(p, shop_), terms)]
    return page(info, items, args)


def _variant_values(v: dict, shop) -> dict:
    product_ = shop.nodes[v["_product"]]
    return {"sku": v["sku"], "barcode": v["barcode"] or "", "title": v["title"],
            "id": str(legacy_id(v["id"])), "product_id": str(legacy_id(product_["id"])),
            "updated_at": v["updatedAt"], "created_at": v["createdAt"]}


@resolver("QueryRoot", "productVariants")
def product_variants(_root, info, **args):
    shop_ = _shop(info)
    terms = parse_search(args.get("query"))
    items = [v for v in _records(info, shop_.variants) if matches(_variant_values(v, shop_), terms)]
    return page(info, items, args)


def _getter(type_name: str):
    def get(_root, info, id):
        return _shop(info).get(id, type_name)
    return get


for _field, _type in [("product", "Product"), ("productVariant", "ProductVariant"),
                      ("inventoryItem", "InventoryItem"), ("inventoryLevel", "InventoryLevel"),
                      ("order", "Order"), ("fulfillment", "Fulfillment"),
                      ("fulfillmentOrder", "FulfillmentOrder"), ("bulkOperation", "BulkOperation"),
                      ("webhookSubscription", "WebhookSubscription")]:
    RESOLVERS[("QueryRoot", _field)] = _getter(_type)


def _served(info, record: dict | None) -> dict | None:
    """Records of types this schema subset leaves out (Customer) are not found by id."""
    return record if record is not None and info.schema.get_type(record["__typename"]) else None


@resolver("QueryRoot", "node")
def node(_root, info, id):
    return _served(info, _shop(info).get(id))


@resolver("QueryRoot", "nodes")
def nodes(_root, info, ids):
    return [_served(info, _shop(info).get(i)) for i in ids]


def _order_fulfillment_status(order: dict, info) -> str:
    shop_ = _shop(info)
    lines = [shop_.nodes[i] for i in order["_line_items"]]
    total = sum(li["currentQuantity"] for li in lines)  # units removed by edits are not owed
    done = sum(li["_fulfilled"] for li in lines)
    if done == 0:
        return "RESTOCKED" if order["cancelledAt"] else "UNFULFILLED"
    return "FULFILLED" if done >= total else "PARTIALLY_FULFILLED"


@resolver("QueryRoot", "orders")
def orders(_root, info, **args):
    terms = parse_search(args.get("query"))
    items = [o for o in _records(info, _shop(info).orders) if matches(
        {"name": o["name"], "email": o["email"], "id": str(legacy_id(o["id"])),
         "updated_at": o["updatedAt"], "created_at": o["createdAt"],
         "fulfillment_status": _order_fulfillment_status(o, info).lower()}, terms)]
    return page(info, items, args)


@resolver("QueryRoot", "webhookSubscriptions")
def webhook_subscriptions(_root, info, **args):
    items = _records(info, _shop(info).webhook_subscriptions)
    if args.get("topics"):
        items = [w for w in items if w["topic"] in args["topics"]]
    for key in ("uri", "callbackUrl"):
        if args.get(key):
            items = [w for w in items if w["uri"] == args[key]]
    if args.get("format"):
        items = [w for w in items if w["format"] == args["format"]]
    return page(info, items, args)


@resolver("QueryRoot", "codeDiscountNodeByCode")
def code_discount_node_by_code(_root, info, code):
    node_id = _shop(info).discount_codes.get(code.strip().lower())
    return _shop(info).get(node_id) if node_id else None


@resolver("QueryRoot", "currentBulkOperation")
def current_bulk_operation(_root, info, type="QUERY"):
    ops = [o for o in _records(info, _shop(info).bulk_operations) if o["type"] == type]
    return ops[-1] if ops else None


# -- locations, products, inventory -----------------------------------------------------------

@resolver("Location", "inventoryLevel")
def location_inventory_level(loc, info, inventoryItemId, includeInactive=False):
    item = _shop(info).get(inventoryItemId, "InventoryItem")
    return item["_levels"].get(loc["id"]) if item else None


@resolver("Location", "inventoryLevels")
def location_inventory_levels(loc, info, **args):
    shop_ = _shop(info)
    levels = [shop_.nodes[v["_item"]]["_levels"].get(loc["id"]) for v in _records(info, shop_.variants)]
    return page(info, [lv for lv in levels if lv], args)


@resolver("Product", "variants")
def product_variants_of(prod, info, **args):
    return page(info, _records(info, prod["_variants"]), args)


@resolver("Product", "totalInventory")
def product_total_inventory(prod, info):
    shop_ = _shop(info)
    return sum(shop_.item_available(shop_.nodes[v["_item"]]) for v in _records(info, prod["_variants"]))


@resolver("ProductVariant", "product")
def variant_product(var, info):
    return _shop(info).nodes[var["_product"]]


@resolver("ProductVariant", "inventoryItem")
def variant_inventory_item(var, info):
    return _shop(info).nodes[var["_item"]]


@resolver("ProductVariant", "inventoryQuantity")
def variant_inventory_quantity(var, info):
    shop_ = _shop(info)
    return shop_.item_available(shop_.nodes[var["_item"]])


@resolver("ProductVariant", "displayName")
def variant_display_name(var, info):
    return f"{_shop(info).nodes[var['_product']]['title']} - {var['title']}"


@resolver("InventoryItem", "variant")
def item_variant(item, info):
    return _shop(info).nodes[item["_variant"]]


@resolver("InventoryItem", "variants")
def item_variants(item, info, **args):
    return page(info, [_shop(info).nodes[item["_variant"]]], args)


@resolver("InventoryItem", "inventoryLevel")
def item_inventory_level(item, _info, locationId, includeInactive=False):
    return item["_levels"].get(locationId)


@resolver("InventoryItem", "inventoryLevels")
def item_inventory_levels(item, info, **args):
    shop_ = _shop(info)
    levels = [lv for lv in item["_levels"].values()
              if args.get("includeInactive") or shop_.nodes[lv["_location"]]["isActive"]]
    return page(info, levels, args)


@resolver("InventoryLevel", "item")
def level_item(level, info):
    return _shop(info).nodes[level["_item"]]


@resolver("InventoryLevel", "location")
def level_location(level, info):
    return _shop(info).nodes[level["_location"]]


@resolver("InventoryLevel", "quantities")
def level_quantities(level, _info, names):
    from graphql import GraphQLError

    unknown = [n for n in names if n not in QUANTITY_NAMES]
    if unknown:
        raise GraphQLError(f"Invalid quantity names: {', '.join(unknown)}. Valid names are: "
                           f"{', '.join(QUANTITY_NAMES)}.", extensions={"code": "BAD_REQUEST"})
    return [{"__typename": "InventoryQuantity", "name": n, "quantity": level["_q"][n],
             "updatedAt": level["updatedAt"],
             "id": f"gid://shopify/InventoryQuantity/{legacy_id(level['_location'])}"
                   f"?inventory_item_id={legacy_id(level['_item'])}&name={n}"} for n in names]


@resolver("InventoryAdjustmentGroup", "changes")
def group_changes(group, _info, inventoryItemIds=None, locationIds=None, quantityNames=None):
    return [c for c in group["_changes"]
            if (inventoryItemIds is None or c["_item"] in inventoryItemIds)
            and (locationIds is None or c["_location"] in locationIds)
            and (quantityNames is None or c["name"] in quantityNames)]


@resolver("InventoryChange", "item")
def change_item(change, info):
    return _shop(info).nodes.get(change["_item"])


@resolver("InventoryChange", "location")
def change_location(change, info):
    return _shop(info).nodes.get(change["_location"])


# -- metafields ----------------------------------------------------------------------------------

def _metafield(owner, info, key, namespace=None):
    if namespace is None and "." in key:
        namespace, key = key.split(".", 1)
    return _shop(info).metafields.get((owner["id"], namespace or "$app", key))


def _metafields(owner, info, namespace=None, keys=None, **args):
    items = _shop(info).metafields_of(owner["id"])
    if namespace:
        items = [m for m in items if m["namespace"] == namespace]
    if keys:
        items = [m for m in items if f"{m['namespace']}.{m['key']}" in keys]
    return page(info, items, args)


for _owner in ("Product", "ProductVariant"):
    RESOLVERS[(_owner, "metafield")] = _metafield
    RESOLVERS[(_owner, "metafields")] = _metafields


@resolver("Metafield", "jsonValue")
def metafield_json_value(mf, _info):
    if mf["type"] in {"number_integer"}:
        return int(mf["value"])
    if mf["type"] == "boolean":
        return mf["value"] == "true"
    if mf["type"] == "json" or mf["type"].startswith("list.") or mf["type"] in {
            "money", "dimension", "weight", "volume", "rating", "link"}:
        return json.loads(mf["value"])
    return mf["value"]
