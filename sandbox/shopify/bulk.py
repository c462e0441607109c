"""Bulk query operations: ``bulkOperationRunQuery`` runs the inner query over every object in the
background and writes JSONL in which each nested connection's nodes are separate lines carrying
``__parentId``. https://shopify.dev/docs/api/usage/bulk-operations/queries

Rules enforced: a query (not a mutation), at least one connection, at most five connections,
at most two levels of nested connections, no top-level ``node``/``nodes``, and parents of nested
connections select ``id``. Up to five bulk queries may run at once per shop (2026-01 and later).
"""

from __future__ import annotations

import json
import threading

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    parse,
    validate,
)

from .cost import is_connection
from .queries import resolver
from .state import legacy_id, now_iso

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
MAX_CONCURRENT = 5


def _error(message, code="INVALID"):
    return {"field": ["query"], "message": message, "code": code}


def _check_shape(schema, operation: OperationDefinitionNode) -> str | None:
    if operation.operation != OperationType.QUERY:
        return "Bulk queries must be a query operation, not a mutation or subscription."
    roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if any(r.name.value in ("node", "nodes") for r in roots):
        return "Bulk queries cannot contain a top level `node` or `nodes` field."
    count = 0
    problems: list[str] = []

    def walk(selection_set, parent_type, depth, parent_has_id):
        nonlocal count
        for sel in selection_set.selections if selection_set else ():
            if not isinstance(sel, FieldNode):
                continue
            field = getattr(parent_type, "fields", {}).get(sel.name.value)
            if field is None:
                continue
            named = get_named_type(field.type)
            if is_connection(named):
                count += 1
                if depth >= 1 and not parent_has_id:
                    problems.append(f"The parent 'node' field for a nested connection must select "
                                    f"the 'id' field. Connection fields without 'id': "
                                    f"{sel.name.value}.")
                if depth > MAX_DEPTH:
                    problems.append("Bulk queries cannot contain connections with a nesting "
                                    f"depth greater than {MAX_DEPTH}.")
                node_type = get_named_type(named.fields["nodes"].type)
                for inner in sel.selection_set.selections if sel.selection_set else ():
                    if not isinstance(inner, FieldNode):
                        continue
                    if inner.name.value == "nodes":
                        walk(inner.selection_set, node_type, depth + 1, _has_id(inner))
                    elif inner.name.value == "edges":
                        for edge_sel in inner.selection_set.selections:
                            if isinstance(edge_sel, FieldNode) and edge_sel.name.value == "node":
                                walk(edge_sel.selection_set, node_type, depth + 1,
                                     _has_id(edge_sel))
            elif sel.selection_set is not None:
                walk(sel.selection_set, named, depth, parent_has_id)

    walk(operation.selection_set, schema.query_type, 0, True)
    if count == 0:
        return "Bulk queries must contain at least one connection."
    if count > MAX_CONNECTIONS:
        return f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
    return problems[0] if problems else None


def _has_id(node: FieldNode) -> bool:
    return any(isinstance(s, FieldNode) and s.name.value == "id" and s.alias is None
               for s in (node.selection_set.selections if node.selection_set else ()))


@resolver("Mutation", "bulkOperationRunQuery")
def bulk_operation_run_query(_root, info, query, groupObjects=False):
    ctx = info.context
    shop = ctx.shop
    try:
        document = parse(query)
    except GraphQLError as exc:
        return {"bulkOperation": None, "userErrors": [_error(f"Invalid bulk query: {exc.message}")]}
    errors = validate(info.schema, document)
    if errors:
        return {"bulkOperation": None,
                "userErrors": [_error(f"Invalid bulk query: {errors[0].message}")]}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return {"bulkOperation": None,
                "userErrors": [_error("Bulk queries must contain exactly one operation.")]}
    problem = _check_shape(info.schema, operations[0])
    if problem:
        return {"bulkOperation": None, "userErrors": [_error(problem)]}
    running = [o for o in (shop.nodes[i] for i in shop.bulk_operations)
               if o["type"] == "QUERY" and o["status"] in ("CREATED", "RUNNING", "CANCELING")]
    if len(running) >= MAX_CONCURRENT:
        return {"bulkOperation": None, "userErrors": [_error(
            "Bulk operations limit reached. Please try again later.", "LIMIT_REACHED")]}
    op = shop.new("BulkOperation", status="CREATED", type="QUERY", errorCode=None,
                  completedAt=None, objectCount="0", rootObjectCount="0", fileSize=None,
                  url=None, partialDataUrl=None, query=query, _lines=None,
                  _group=groupObjects, _scopes=ctx.scopes)
    shop.bulk_operations.append(op["id"])
    emulator = ctx.emulator
    timer = threading.Timer(emulator.bulk_delay, emulator.run_bulk_operation,
                            args=(shop.domain, op["id"]))
    timer.daemon = True
    timer.start()
    op["status"] = "RUNNING"
    return {"bulkOperation": op, "userErrors": []}


@resolver("Mutation", "bulkOperationCancel")
def bulk_operation_cancel(_root, info, id):
    op = info.context.shop.get(id, "BulkOperation")
    if op is None:
        return {"bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
    if op["status"] not in ("CREATED", "RUNNING"):
        return {"bulkOperation": op, "userErrors": [{"field": None, "message":
                f"A bulk operation cannot be canceled when it is {op['status'].lower()}"}]}
    op["status"] = "CANCELING"
    return {"bulkOperation": op, "userErrors": []}


def _is_connection_value(value) -> bool:
    return isinstance(value, dict) and (isinstance(value.get("edges"), list)
                                        or isinstance(value.get("nodes"), list))


def _connection_nodes(value: dict) -> list:
    if isinstance(value.get("nodes"), list):
        return value["nodes"]
    return [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]


def _split(obj: dict, children: list) -> dict:
    """Copies ``obj`` without its connections; collects them into ``children``."""
    out = {}
    for key, value in obj.items():
        if _is_connection_value(value):
            children.extend(n for n in _connection_nodes(value) if n is not None)
        elif isinstance(value, dict):
            out[key] = _split(value, children)
        else:
            out[key] = value
    return out


def to_jsonl(data: dict) -> tuple[list[bytes], int, int]:
    """JSONL lines, objectCount, rootObjectCount for the ``data`` of a bulk query."""
    lines: list[bytes] = []
    roots = 0

    def emit(node: dict, parent_id: str | None):
        children: list = []
        line = _split(node, children)
        if parent_id is not None:
            line["__parentId"] = parent_id
        lines.append(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        for child in children:
            emit(child, node.get("id"))

    def walk_root(value):
        nonlocal roots
        if _is_connection_value(value):
            for node in _connection_nodes(value):
                if node is not None:
                    roots += 1
                    emit(node, None)
        elif isinstance(value, dict):
            for inner in value.values():
                walk_root(inner)

    for value in (data or {}).values():
        walk_root(value)
    return lines, len(lines), roots


def finish_payload(op: dict) -> dict:
    """Body of the ``bulk_operations/finish`` webhook."""
    return {"admin_graphql_api_id": op["id"], "completed_at": op["completedAt"],
            "created_at": op["createdAt"], "error_code": (op["errorCode"] or "").lower() or None,
            "status": op["status"].lower(), "type": op["type"].lower()}


def complete(op: dict, data: dict | None, errors: list, base_url: str) -> None:
    op["completedAt"] = now_iso()
    if op["status"] == "CANCELING":
        op["status"] = "CANCELED"
        return
    if errors:
        op["status"] = "FAILED"
        denied = any((e.extensions or {}).get("code") == "ACCESS_DENIED" for e in errors)
        op["errorCode"] = "ACCESS_DENIED" if denied else "INTERNAL_SERVER_ERROR"
        return
    lines, objects, roots = to_jsonl(data)
    op["_lines"] = lines
    op["objectCount"], op["rootObjectCount"] = str(objects), str(roots)
    op["fileSize"] = str(sum(len(line) for line in lines)) if lines else None
    op["url"] = f"{base_url}/bulk/{legacy_id(op['id'])}.jsonl" if lines else None
    op["status"] = "COMPLETED"
