"""The merchant's decisions on a suggestion from the Insights page: dismiss a restock suggestion,
accept or dismiss a transfer. (Approving a restock suggestion creates an inbound shipment: see
the inbound API.)

Each decision is one conditional UPDATE from ``open``, so two clicks (or two tabs) record one
decision; repeating the same decision answers the row as it is, a different one is refused.
"""

from __future__ import annotations

from sqlalchemy import select, update

from integration.extensions import db
from integration.models import RestockSuggestion, TransferSuggestion
from integration.models.base import utcnow


class NotFound(LookupError):
    """No such row in this shop."""


class Conflict(ValueError):
    """The row was already decided otherwise: ``status`` is what it is now."""

    def __init__(self, status: str) -> None:
        super().__init__(f"already {status}")
        self.status = status


def _decide(model, shop_id: int, row_id: int, status: str):
    changed = db.session.execute(
        update(model).where(model.id == row_id, model.shop_id == shop_id, model.status == "open")
        .values(status=status, updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    row = db.session.execute(select(model).where(model.id == row_id, model.shop_id == shop_id)
                             .execution_options(populate_existing=True)).scalar()
    if row is None:
        raise NotFound(row_id)
    if not changed and row.status != status:
        raise Conflict(row.status)
    return row


def dismiss_suggestion(shop_id: int, suggestion_id: int) -> RestockSuggestion:
    return _decide(RestockSuggestion, shop_id, suggestion_id, "dismissed")


def decide_transfer(shop_id: int, transfer_id: int, status: str) -> TransferSuggestion:
    """``status`` is ``accepted`` or ``dismissed``."""
    return _decide(TransferSuggestion, shop_id, transfer_id, status)
