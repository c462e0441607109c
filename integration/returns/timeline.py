"""A return's timeline: one row per step, written in the step's own transaction. A step done
twice (a retried job, a redelivered webhook) adds nothing: the row is unique per (return, kind)."""

from __future__ import annotations

from sqlalchemy import select

from integration.extensions import db
from integration.models import ReturnEvent
from integration.models.base import utcnow
from integration.models.upsert import insert


def record_event(return_id: int, kind: str, detail: dict | None = None) -> bool:
    """Add the step to the timeline unless it is there; whether it was added."""
    added = db.session.execute(
        insert(ReturnEvent).values(return_id=return_id, kind=kind, detail=detail or {}, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["return_id", "kind"]).returning(ReturnEvent.id)).scalar()
    return added is not None


def events_of(return_id: int) -> list[dict]:
    return [{"kind": e.kind, "detail": e.detail or {}, "at": e.created_at.isoformat()}
            for e in db.session.execute(select(ReturnEvent).where(ReturnEvent.return_id == return_id)
                                        .order_by(ReturnEvent.created_at, ReturnEvent.id)).scalars()]
