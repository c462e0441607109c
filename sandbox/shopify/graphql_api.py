"""The Admin GraphQL endpoint: parse, validate against ``schema.graphql``, price, throttle, run.

Errors keep the shapes Shopify (graphql-ruby) returns: validation errors carry ``extensions.code``
(``undefinedField``, ``argumentNotAccepted``, ``missingRequiredArguments``…), variables that do not
coerce give ``INVALID_VARIABLE`` with ``problems``, and every priced response carries
``extensions.cost``. https://shopify.dev/docs/api/admin-graphql#rate-limits
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

# Imported for their side effect: each registers its resolvers in RESOLVERS.
from . import bulk as _bulk  # noqa: F401
from . import (  # noqa: F401
    discounts,
    fulfillment,
    inventory,
    metafields,
    orders,
    return_processing,
    return_queries,
    returns,
    shopifyql,
    webhooks,
)
from .cost import MAX_QUERY_COST, ActualCost, CostCalculator
from .queries import RESOLVERS

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
MAX_INPUT_ARRAY = 250
DOCS_ACCESS = "https://shopify.dev/api/usage/access-scopes"
DOCS_RATE = "https://shopify.dev/api/usage/rate-limits"

# Root fields -> access scopes of which one is needed (a write scope implies its read scope).
_FO_READ = ["read_assigned_fulfillment_orders", "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders"]
_FO_WRITE = [s.replace("read_", "write_") for s in _FO_READ]
ROOT_SCOPES = {
    "locations": ["read_locations"], "location": ["read_locations"],
    "products": ["read_products"], "product": ["read_products"],
    "productVariants": ["read_products"], "productVariant": ["read_products"],
    "inventoryItem": ["read_inventory"], "inventoryLevel": ["read_inventory"],
    "order": ["read_orders"], "orders": ["read_orders"], "fulfillment": ["read_orders"],
    "fulfillmentOrder": _FO_READ, "codeDiscountNodeByCode": ["read_discounts"],
    "inventorySetQuantities": ["write_inventory"],
    "fulfillmentCreate": _FO_WRITE, "fulfillmentTrackingInfoUpdate": _FO_WRITE,
    "fulfillmentEventCreate": ["write_fulfillments", *_FO_WRITE],
    "discountCodeBasicCreate": ["write_discounts"],
    "discountCodeFreeShippingCreate": ["write_discounts"],
    "shopifyqlQuery": ["read_reports"],
    # https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps (access scopes)
    "return": ["read_returns"], "returnableFulfillments": ["read_returns"],
    "returnReasonDefinitions": ["read_returns"], "reverseFulfillmentOrder": ["read_returns"],
    "returnRequest": ["write_returns"], "returnApproveRequest": ["write_returns"],
    "returnDeclineRequest": ["write_returns"], "returnProcess": ["write_returns"],
    "reverseDeliveryCreateWithShipping": ["write_returns"],
}


class Context:
    def __init__(self, emulator, shop, scopes: frozenset[str], *, bulk: bool = False) -> None:
        self.emulator = emulator
        self.shop = shop
        self.scopes = scopes
        self.bulk = bulk
        self.events: list[tuple[str, dict]] = []

    def emit(self, topic: str, payload: dict) -> None:
        self.events.append((topic, payload))

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or (
            scope.startswith("read_") and "write_" + scope[len("read_"):] in self.scopes)


def _scope_text(scopes: list[str]) -> str:
    parts = [f"`{s}` access scope" for s in scopes]
    return parts[0] + "." if len(parts) == 1 else ", ".join(parts[:-1]) + f" or {parts[-1]}."


def _check_sizes(value, path="") -> None:
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ARRAY:
            raise GraphQLError(f"The input array size of {len(value)} is greater than the maximum "
                               f"allowed of {MAX_INPUT_ARRAY}.",
                               extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})
        for item in value:
            _check_sizes(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_sizes(item)


def _root(field_name: str, fn):
    needed = ROOT_SCOPES.get(field_name)

    def wrapped(root, info, **args):
        if needed and not any(info.context.has_scope(s) for s in needed):
            required = _scope_text(needed)
            raise GraphQLError(
                f"Access denied for {field_name} field. Required access: {required}",
                extensions={"code": "ACCESS_DENIED", "documentation": DOCS_ACCESS,
                            "requiredAccess": required})
        _check_sizes(args)
        return fn(root, info, **args)
    return wrapped


def _parse_datetime(value):
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be a string")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphQLError(f"Invalid DateTime: {value}") from exc
    return value


def _parse_url(value):
    parts = urlsplit(value) if isinstance(value, str) else None
    if not parts or not parts.scheme or not (parts.netloc or parts.scheme in ("mailto", "tel")):
        raise GraphQLError(f"Invalid url '{value}', missing scheme")
    return value


@functools.cache
def load_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text())
    for (type_name, field_name), fn in RESOLVERS.items():
        field = schema.get_type(type_name).fields[field_name]
        field.resolve = _root(field_name, fn) if type_name in ("QueryRoot", "Mutation") else fn
    # UnsignedInt64 travels as a string; DateTime and URL are checked as Shopify checks them.
    schema.get_type("UnsignedInt64").serialize = str
    schema.get_type("DateTime").parse_value = _parse_datetime
    schema.get_type("URL").parse_value = _parse_url
    return schema


# -- error shapes ------------------------------------------------------------------------------

_TRANSLATIONS = [
    (re.compile(r"^Cannot query field '(?P<f>\w+)' on type '(?P<t>\w+)'\."),
     lambda m: (f"Field '{m['f']}' doesn't exist on type '{m['t']}'",
                {"code": "undefinedField", "typeName": m["t"], "fieldName": m["f"]})),
    (re.compile(r"^Unknown argument '(?P<a>\w+)' on field '(?P<t>\w+)\.(?P<f>\w+)'\."),
     lambda m: (f"Field '{m['f']}' doesn't accept argument '{m['a']}'",
                {"code": "argumentNotAccepted", "name": m["f"], "typeName": "Field",
                 "argumentName": m["a"]})),
    (re.compile(r"^Field '(?:\w+\.)?(?P<f>\w+)' argument '(?P<a>\w+)' of type .* is required"),
     lambda m: (f"Field '{m['f']}' is missing required arguments: {m['a']}",
                {"code": "missingRequiredArguments", "className": "Field", "name": m["f"],
                 "arguments": m["a"]})),
    (re.compile(r"^Field '(?P<f>\w+)' is not defined by type '(?P<t>\w+)'\."),
     lambda m: (f"InputObject '{m['t']}' doesn't accept argument '{m['f']}'",
                {"code": "argumentNotAccepted", "name": m["t"], "typeName": "InputObject",
                 "argumentName": m["f"]})),
    (re.compile(r"^Directive '@(?P<d>\w+)' may not be used on (?P<loc>\w+)\."),
     lambda m: (f"'@{m['d']}' can't be applied to {m['loc'].lower()}s (allowed: fields)",
                {"code": "directiveCannotBeApplied", "targetName": m["loc"].lower() + "s",
                 "name": m["d"]})),
    (re.compile(r"^Unknown directive '@(?P<d>\w+)'\."),
     lambda m: (f"Directive @{m['d']} is not defined",
                {"code": "undefinedDirective", "directiveName": m["d"]})),
]


def format_error(error: GraphQLError) -> dict:
    out = error.formatted
    for pattern, build in _TRANSLATIONS:
        match = pattern.match(error.message)
        if match:
            out["message"], extensions = build(match)
            out["extensions"] = {**extensions, **(error.extensions or {})}
            break
    return out


_VARIABLE = re.compile(r"^Variable '\$(?P<name>\w+)' got invalid value (?P<value>.*?)"
                       r"(?: at '(?P<path>[^']+)')?; (?P<why>.*)$", re.S)
_NOT_DEFINED = re.compile(r"^Field '(?P<f>\w+)' is not defined by type '(?P<t>\w+)'\.")
_NOT_PROVIDED = re.compile(r"^Field '(?P<f>\w+)' of required type '(?P<t>[^']+)' was not provided")


def _variable_error(error: GraphQLError, operation: OperationDefinitionNode, raw: dict) -> dict:
    match = _VARIABLE.match(error.message)
    if not match:
        return {**error.formatted, "extensions": {"code": "INVALID_VARIABLE"}}
    name = match["name"]
    types = {d.variable.name.value: d.type for d in operation.variable_definitions}
    from graphql import print_ast

    type_text = print_ast(types[name]) if name in types else "?"
    path: list = []
    for part in re.findall(r"\.(\w+)|\[(\d+)\]", (match["path"] or "").split(name, 1)[-1]):
        path.append(part[0] if part[0] else int(part[1]))
    why = match["why"]
    explanation = why.rstrip(".")
    nd = _NOT_DEFINED.match(why)
    if nd:
        path.append(nd["f"])
        explanation = f"Field is not defined on {nd['t']}"
    np = _NOT_PROVIDED.match(why)
    if np:
        path.append(np["f"])
        explanation = "Expected value to not be null"
    dotted = ".".join(str(p) for p in path)
    return {
        "message": f"Variable ${name} of type {type_text} was provided invalid value"
                   + (f" for {dotted}" if dotted else "") + f" ({explanation})",
        "locations": error.formatted.get("locations", []),
        "extensions": {"code": "INVALID_VARIABLE", "value": raw.get(name),
                       "problems": [{"path": path, "explanation": explanation}]},
    }


def max_cost_error(cost: int) -> dict:
    return {
        "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
                   f"({MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits"
                   " for more information on how the\ncost of a query is calculated.\n\nTo query "
                   "larger amounts of data with fewer limits, bulk operations should be used "
                   "instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-"
                   "api for usage details.\n",
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_QUERY_COST},
    }


THROTTLED = {"message": "Throttled",
             "extensions": {"code": "THROTTLED", "documentation": DOCS_RATE}}


def run(emulator, shop, scopes: frozenset[str], body: dict, bucket) -> tuple[dict, dict]:
    """Runs one request body; returns (response json, call record)."""
    query, raw_vars = body.get("query"), body.get("variables") or {}
    call = {"operation": body.get("operationName"), "cost": 0, "throttled": False,
            "root_fields": [], "status": 200}
    try:
        document = parse(query)
    except GraphQLError as exc:
        return {"errors": [exc.formatted]}, call
    schema = load_schema()
    errors = validate(schema, document)
    if errors:
        return {"errors": [format_error(e) for e in errors]}, call
    operation = get_operation_ast(document, body.get("operationName"))
    if operation is None:
        message = ("An operation name is required" if body.get("operationName") is None
                   else f"No operation named \"{body['operationName']}\"")
        return {"errors": [{"message": message}]}, call
    call["operation"] = call["operation"] or (operation.name.value if operation.name else None)
    call["root_fields"] = [s.name.value for s in operation.selection_set.selections
                           if hasattr(s, "name")]
    call["type"] = operation.operation.value
    coerced = get_variable_values(schema, operation.variable_definitions or [], raw_vars)
    if isinstance(coerced, list):
        return {"errors": [_variable_error(e, operation, raw_vars) for e in coerced]}, call
    fragments = {d.name.value: d for d in document.definitions
                 if d.__class__.__name__ == "FragmentDefinitionNode"}
    requested = CostCalculator(schema, fragments, raw_vars).operation(operation)
    call["cost"] = requested
    if requested > MAX_QUERY_COST:
        return {"errors": [max_cost_error(requested)]}, call
    if not bucket.take(requested):
        call["throttled"] = True
        return {"errors": [THROTTLED], "extensions": {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": None,
            "throttleStatus": bucket.status()}}}, call
    ctx = Context(emulator, shop, scopes)
    meter = ActualCost()
    result = execute(schema, document, context_value=ctx, variable_values=raw_vars,
                     operation_name=body.get("operationName"), middleware=[meter])
    actual = min(meter.total, requested)
    bucket.give_back(requested - actual)
    call["cost"] = actual
    call["executed"] = True
    out: dict = {}
    if result.errors:
        out["errors"] = [format_error(e) for e in result.errors]
    out["data"] = result.data
    out["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                                  "throttleStatus": bucket.status()}}
    call["events"] = ctx.events
    return out, call


def run_bulk(emulator, shop, scopes, query: str):
    """Executes a bulk operation's query with unbounded connections."""
    ctx = Context(emulator, shop, scopes, bulk=True)
    return execute(load_schema(), parse(query), context_value=ctx), ctx.events
