"""App-level topics: ``app/uninstalled`` (only the shop's gid matters: its tokens are dead) and
``bulk_operations/finish`` (a bulk query the app started is done). Field reading rules:
:mod:`connectors.shopify.webhook_fields`.
"""

from __future__ import annotations

from typing import Any

from connectors.shopify.webhook_fields import Body, gid_of
from integration.domain.channels import BulkOperation


def parse_app_uninstalled(payload: Any) -> str | None:
    """``app/uninstalled`` carries the shop resource; only its gid is of use (the tokens are dead)."""
    return Body(payload, "shop").optional_gid("Shop")


def parse_bulk_operation_finish(payload: Any) -> BulkOperation:
    """``bulk_operations/finish``: ``{admin_graphql_api_id, status, error_code, type, created_at,
    completed_at}`` with lower-case status and code (``completed``); upper-cased here to the GraphQL
    enum values the rest of the connector uses."""
    body = Body(payload, "bulk_operation")
    error_code = body.code("error_code", 64)
    return BulkOperation(
        id=gid_of(body.obj.get("admin_graphql_api_id"), "BulkOperation", body.at("admin_graphql_api_id")),
        status=body.required_code("status", 32).upper(),
        error_code=error_code.upper() if error_code else None,
        created_at=body.timestamp("created_at"),
        completed_at=body.timestamp("completed_at"),
    )
