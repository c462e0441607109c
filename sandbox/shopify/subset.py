"""Regenerates ``schema.graphql``: the part of the real Admin API SDL that the emulator serves.

Run ``python -m sandbox.shopify.subset [path/to/admin-2026-07.graphql]`` after adding a field to
``SELECTION``. Output types and fields are copied verbatim (type, arguments, defaults, deprecation)
from the reference schema; input objects and enums are copied whole so that every input the real
API accepts is accepted here too. Descriptions are dropped to keep the file small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    print_ast,
)
from graphql.pyutils import Undefined
from graphql.utilities import ast_from_value

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parents[2] / "shared" / "reference" / "shopify" / "admin-2026-07.graphql"
OUTPUT = HERE / "schema.graphql"

_CONN = ["edges", "nodes", "pageInfo"]
_EDGE = ["cursor", "node"]
_USER_ERROR = ["field", "message"]
_RETURN_LINE = [
    "id", "quantity", "processedQuantity", "processableQuantity", "unprocessedQuantity",
    "refundableQuantity", "refundedQuantity", "customerNote", "returnReasonDefinition",
    "returnReasonNote",
]

# Object/interface types -> the fields served. Unions -> the member types served.
SELECTION: dict[str, list[str]] = {
    "QueryRoot": [
        "shop", "locations", "location", "products", "product", "productVariants",
        "productVariant", "node", "nodes", "inventoryItem", "inventoryLevel", "order", "orders",
        "fulfillment", "fulfillmentOrder", "currentBulkOperation", "bulkOperation",
        "webhookSubscriptions", "webhookSubscription", "codeDiscountNodeByCode", "shopifyqlQuery",
        "return", "returnableFulfillments", "returnReasonDefinitions", "reverseFulfillmentOrder",
    ],
    "Mutation": [
        "inventorySetQuantities", "metafieldsSet", "fulfillmentCreate",
        "fulfillmentTrackingInfoUpdate", "fulfillmentEventCreate", "discountCodeBasicCreate",
        "discountCodeFreeShippingCreate", "webhookSubscriptionCreate",
        "webhookSubscriptionDelete", "bulkOperationRunQuery", "bulkOperationCancel",
        "returnRequest", "returnApproveRequest", "returnDeclineRequest", "returnProcess",
        "reverseDeliveryCreateWithShipping",
    ],
    "Node": ["id"],
    "DisplayableError": _USER_ERROR,
    "PageInfo": ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
    "Shop": [
        "id", "name", "email", "contactEmail", "myshopifyDomain", "currencyCode", "ianaTimezone",
        "createdAt", "updatedAt", "url",
    ],
    "Location": [
        "id", "legacyResourceId", "name", "isActive", "fulfillsOnlineOrders", "shipsInventory",
        "address", "inventoryLevel", "inventoryLevels", "createdAt", "updatedAt",
    ],
    "LocationAddress": [
        "address1", "address2", "city", "country", "countryCode", "province", "provinceCode",
        "zip", "phone",
    ],
    "LocationConnection": _CONN, "LocationEdge": _EDGE,
    "Product": [
        "id", "legacyResourceId", "title", "handle", "status", "vendor", "productType", "tags",
        "totalInventory", "tracksInventory", "createdAt", "updatedAt", "variants",
        "metafield", "metafields",
    ],
    "ProductConnection": _CONN, "ProductEdge": _EDGE,
    "ProductVariant": [
        "id", "legacyResourceId", "title", "displayName", "sku", "barcode", "price",
        "inventoryQuantity", "inventoryItem", "product", "createdAt", "updatedAt",
        "metafield", "metafields",
    ],
    "ProductVariantConnection": _CONN, "ProductVariantEdge": _EDGE,
    "InventoryItem": [
        "id", "legacyResourceId", "sku", "tracked", "variant", "variants", "inventoryLevel",
        "inventoryLevels", "createdAt", "updatedAt",
    ],
    "InventoryLevel": ["id", "item", "location", "quantities", "isActive", "createdAt", "updatedAt"],
    "InventoryLevelConnection": _CONN, "InventoryLevelEdge": _EDGE,
    "InventoryQuantity": ["id", "name", "quantity", "updatedAt"],
    "InventoryAdjustmentGroup": ["id", "createdAt", "reason", "referenceDocumentUri", "changes"],
    "InventoryChange": ["name", "delta", "quantityAfterChange", "item", "location", "ledgerDocumentUri"],
    "InventorySetQuantitiesPayload": ["inventoryAdjustmentGroup", "userErrors"],
    "InventorySetQuantitiesUserError": ["code", "field", "message"],
    "Metafield": [
        "id", "namespace", "key", "value", "type", "jsonValue", "compareDigest", "ownerType",
        "createdAt", "updatedAt",
    ],
    "MetafieldConnection": _CONN, "MetafieldEdge": _EDGE,
    "MetafieldsSetPayload": ["metafields", "userErrors"],
    "MetafieldsSetUserError": ["code", "elementIndex", "field", "message"],
    "Order": [
        "id", "legacyResourceId", "name", "email", "createdAt", "updatedAt", "processedAt",
        "cancelledAt", "currencyCode", "customerLocale", "displayFulfillmentStatus",
        "shippingAddress", "lineItems", "fulfillmentOrders", "fulfillments", "returns",
    ],
    "OrderConnection": _CONN, "OrderEdge": _EDGE,
    "MailingAddress": [
        "id", "firstName", "lastName", "name", "company", "address1", "address2", "city",
        "province", "provinceCode", "zip", "country", "countryCodeV2", "phone",
    ],
    "LineItem": ["id", "name", "title", "sku", "quantity", "currentQuantity", "variant", "product"],
    "LineItemConnection": _CONN, "LineItemEdge": _EDGE,
    "FulfillmentOrder": [
        "id", "status", "requestStatus", "createdAt", "updatedAt", "orderId", "orderName",
        "assignedLocation", "lineItems", "order", "fulfillments",
    ],
    "FulfillmentOrderConnection": _CONN, "FulfillmentOrderEdge": _EDGE,
    "FulfillmentOrderAssignedLocation": [
        "name", "countryCode", "address1", "address2", "city", "province", "zip", "phone",
        "location",
    ],
    "FulfillmentOrderLineItem": [
        "id", "sku", "productTitle", "variantTitle", "totalQuantity", "remainingQuantity",
        "inventoryItemId", "lineItem", "variant",
    ],
    "FulfillmentOrderLineItemConnection": _CONN, "FulfillmentOrderLineItemEdge": _EDGE,
    "Fulfillment": [
        "id", "legacyResourceId", "name", "status", "displayStatus", "createdAt", "updatedAt",
        "inTransitAt", "deliveredAt", "estimatedDeliveryAt", "trackingInfo", "events", "order",
        "location", "totalQuantity",
    ],
    "FulfillmentConnection": _CONN, "FulfillmentEdge": _EDGE,
    "FulfillmentTrackingInfo": ["company", "number", "url"],
    "FulfillmentEvent": [
        "id", "status", "message", "happenedAt", "createdAt", "estimatedDeliveryAt", "city",
        "province", "country", "zip", "address1", "latitude", "longitude",
    ],
    "FulfillmentEventConnection": _CONN, "FulfillmentEventEdge": _EDGE,
    "FulfillmentCreatePayload": ["fulfillment", "userErrors"],
    "FulfillmentTrackingInfoUpdatePayload": ["fulfillment", "userErrors"],
    "FulfillmentEventCreatePayload": ["fulfillmentEvent", "userErrors"],
    "UserError": _USER_ERROR,
    "DiscountCodeNode": ["id", "codeDiscount"],
    "DiscountCode": ["DiscountCodeBasic", "DiscountCodeFreeShipping"],
    "DiscountCodeBasic": [
        "title", "status", "summary", "startsAt", "endsAt", "usageLimit",
        "appliesOncePerCustomer", "asyncUsageCount", "codes", "createdAt", "updatedAt",
    ],
    "DiscountCodeFreeShipping": [
        "title", "status", "summary", "startsAt", "endsAt", "usageLimit",
        "appliesOncePerCustomer", "asyncUsageCount", "codes", "createdAt", "updatedAt",
    ],
    "DiscountRedeemCode": ["id", "code", "asyncUsageCount"],
    "DiscountRedeemCodeConnection": _CONN, "DiscountRedeemCodeEdge": _EDGE,
    "DiscountCodeBasicCreatePayload": ["codeDiscountNode", "userErrors"],
    "DiscountCodeFreeShippingCreatePayload": ["codeDiscountNode", "userErrors"],
    "DiscountUserError": ["code", "extraInfo", "field", "message"],
    "WebhookSubscription": [
        "id", "legacyResourceId", "topic", "uri", "callbackUrl", "format", "filter",
        "includeFields", "metafieldNamespaces", "name", "apiVersion", "createdAt", "updatedAt",
    ],
    "WebhookSubscriptionConnection": _CONN, "WebhookSubscriptionEdge": _EDGE,
    "WebhookSubscriptionCreatePayload": ["webhookSubscription", "userErrors"],
    "WebhookSubscriptionDeletePayload": ["deletedWebhookSubscriptionId", "userErrors"],
    "ApiVersion": ["handle", "displayName", "supported"],
    "BulkOperation": [
        "id", "status", "type", "errorCode", "createdAt", "completedAt", "objectCount",
        "rootObjectCount", "fileSize", "url", "partialDataUrl", "query",
    ],
    "BulkOperationRunQueryPayload": ["bulkOperation", "userErrors"],
    "BulkOperationCancelPayload": ["bulkOperation", "userErrors"],
    "BulkOperationUserError": ["code", "field", "message"],
    "ShopifyqlQueryResponse": ["parseErrors", "tableData"],
    "ShopifyqlTableData": ["columns", "rowMetadata", "rows"],
    "ShopifyqlTableDataColumn": [
        "columnOrigin", "dataType", "displayName", "name", "shortDisplayName", "subType",
    ],
    "ShopifyqlRowMetadata": ["nullCellTranslations", "rawResourceIds", "topNRemainderColumnNames"],
    "ShopifyqlNullCellTranslation": ["columnName", "displayText"],
    # Returns: https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps
    "Return": [
        "id", "name", "status", "createdAt", "closedAt", "requestApprovedAt", "decline", "order",
        "returnLineItems", "reverseFulfillmentOrders", "refunds", "totalQuantity",
        "suggestedFinancialOutcome",
    ],
    "ReturnDecline": ["reason", "note"],
    "ReturnConnection": _CONN, "ReturnEdge": _EDGE,
    "ReturnLineItemType": _RETURN_LINE,
    "ReturnLineItem": [*_RETURN_LINE, "fulfillmentLineItem"],
    "ReturnLineItemTypeConnection": _CONN, "ReturnLineItemTypeEdge": _EDGE,
    "ReturnReasonDefinition": ["id", "handle", "name", "deleted"],
    "ReturnReasonDefinitionConnection": _CONN, "ReturnReasonDefinitionEdge": _EDGE,
    "FulfillmentLineItem": ["id", "quantity", "lineItem"],
    "ReturnableFulfillment": ["id", "fulfillment", "returnableFulfillmentLineItems"],
    "ReturnableFulfillmentConnection": _CONN, "ReturnableFulfillmentEdge": _EDGE,
    "ReturnableFulfillmentLineItem": ["fulfillmentLineItem", "quantity"],
    "ReturnableFulfillmentLineItemConnection": _CONN, "ReturnableFulfillmentLineItemEdge": _EDGE,
    "ReverseFulfillmentOrder": ["id", "status", "order", "lineItems", "reverseDeliveries"],
    "ReverseFulfillmentOrderConnection": _CONN, "ReverseFulfillmentOrderEdge": _EDGE,
    "ReverseFulfillmentOrderLineItem": ["id", "totalQuantity", "fulfillmentLineItem"],
    "ReverseFulfillmentOrderLineItemConnection": _CONN, "ReverseFulfillmentOrderLineItemEdge": _EDGE,
    "ReverseDelivery": ["id", "deliverable", "reverseFulfillmentOrder"],
    "ReverseDeliveryConnection": _CONN, "ReverseDeliveryEdge": _EDGE,
    "ReverseDeliveryDeliverable": ["ReverseDeliveryShippingDeliverable"],
    "ReverseDeliveryShippingDeliverable": ["label", "tracking"],
    "ReverseDeliveryLabelV2": ["publicFileUrl", "createdAt", "updatedAt"],
    "ReverseDeliveryTrackingV2": ["carrierName", "number", "url"],
    "Refund": ["id", "createdAt", "note", "totalRefundedSet"],
    "RefundConnection": _CONN, "RefundEdge": _EDGE,
    "MoneyBag": ["shopMoney", "presentmentMoney"],
    "MoneyV2": ["amount", "currencyCode"],
    "SuggestedReturnFinancialOutcome": ["financialTransfer"],
    "ReturnOutcomeFinancialTransfer": ["RefundReturnOutcome"],
    "RefundReturnOutcome": ["amount", "suggestedTransactions"],
    "SuggestedOrderTransaction": ["amountSet", "kind", "parentTransaction"],
    "OrderTransaction": ["id", "kind", "status", "amountSet"],
    "ReturnRequestPayload": ["return", "userErrors"],
    "ReturnApproveRequestPayload": ["return", "userErrors"],
    "ReturnDeclineRequestPayload": ["return", "userErrors"],
    "ReturnProcessPayload": ["return", "userErrors"],
    "ReverseDeliveryCreateWithShippingPayload": ["reverseDelivery", "userErrors"],
    "ReturnUserError": ["code", "field", "message"],
}

DIRECTIVES = ["idempotent"]


def _value(value, type_) -> str:
    return print_ast(ast_from_value(value, type_))


def _deprecated(field) -> str:
    reason = field.deprecation_reason
    if reason is None:
        return ""
    return f" @deprecated(reason: {_value(reason, GraphQLString)})"


def _args(args) -> str:
    if not args:
        return ""
    parts = []
    for name, arg in args.items():
        text = f"{name}: {arg.type}"
        if not _is_undefined(arg.default_value):
            text += f" = {_value(arg.default_value, arg.type)}"
        parts.append(text + _deprecated(arg))
    return "(" + ", ".join(parts) + ")"


def _is_undefined(value) -> bool:
    return value is Undefined


def build_subset_sdl(reference: Path = REFERENCE, *, full: GraphQLSchema | None = None) -> str:
    """The SDL of ``schema.graphql``, from the reference file or an already built ``full``."""
    full = full or build_schema(reference.read_text())
    wanted: dict[str, None] = {}
    queue = list(SELECTION)
    while queue:
        name = queue.pop(0)
        if name in wanted:
            continue
        wanted[name] = None
        type_ = full.get_type(name)
        if type_ is None:
            raise SystemExit(f"{name} is not in the reference schema")
        refs: list = []
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            if name not in SELECTION:
                raise SystemExit(f"{name} is referenced but has no SELECTION entry")
            for field_name in SELECTION[name]:
                field = type_.fields.get(field_name)
                if field is None:
                    raise SystemExit(f"{name}.{field_name} is not in the reference schema")
                refs.append(field.type)
                refs.extend(arg.type for arg in field.args.values())
        elif isinstance(type_, GraphQLUnionType):
            members = {t.name for t in type_.types}
            for member in SELECTION[name]:
                if member not in members:
                    raise SystemExit(f"{member} is not a member of union {name}")
                queue.append(member)
        elif isinstance(type_, GraphQLInputObjectType):
            refs.extend(f.type for f in type_.fields.values())
        queue.extend(get_named_type(t).name for t in refs)
    for directive in DIRECTIVES:
        for arg in full.get_directive(directive).args.values():
            wanted.setdefault(get_named_type(arg.type).name, None)

    out = ["# Generated by `python -m sandbox.shopify.subset` from the real Admin API 2026-07 SDL.",
           "# A subset: every type, field and argument here is identical to the reference.", "",
           "schema {\n  query: QueryRoot\n  mutation: Mutation\n}", ""]
    for directive in DIRECTIVES:
        d = full.get_directive(directive)
        locations = " | ".join(loc.name for loc in d.locations)
        out.append(f"directive @{d.name}{_args(d.args)} on {locations}\n")
    for name in sorted(wanted):
        type_ = full.get_type(name)
        if isinstance(type_, GraphQLScalarType):
            if name not in {"String", "Int", "Float", "Boolean", "ID"}:
                out.append(f"scalar {name}\n")
        elif isinstance(type_, GraphQLEnumType):
            values = "\n".join(f"  {v}{_deprecated(val)}" for v, val in type_.values.items())
            out.append(f"enum {name} {{\n{values}\n}}\n")
        elif isinstance(type_, GraphQLInputObjectType):
            fields = "\n".join(
                f"  {n}: {f.type}"
                + (f" = {_value(f.default_value, f.type)}"
                   if not _is_undefined(f.default_value) else "")
                + _deprecated(f)
                for n, f in type_.fields.items()
            )
            out.append(f"input {name} {{\n{fields}\n}}\n")
        elif isinstance(type_, GraphQLUnionType):
            out.append(f"union {name} = {' | '.join(SELECTION[name])}\n")
        else:
            kind = "interface" if isinstance(type_, GraphQLInterfaceType) else "type"
            interfaces = [i.name for i in type_.interfaces if i.name in wanted]
            impl = f" implements {' & '.join(interfaces)}" if interfaces else ""
            fields = "\n".join(
                f"  {fn}{_args(type_.fields[fn].args)}: {type_.fields[fn].type}"
                f"{_deprecated(type_.fields[fn])}"
                for fn in SELECTION[name]
            )
            out.append(f"{kind} {name}{impl} {{\n{fields}\n}}\n")
    return "\n".join(out)


def main(argv: list[str]) -> None:
    reference = Path(argv[1]) if len(argv) > 1 else REFERENCE
    OUTPUT.write_text(build_subset_sdl(reference))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv)
