"""The embedded admin's JSON API. Every route is session-token protected and scoped to g.shop."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from sqlalchemy import select

from integration import job_catalog
from integration.errors import APIError
from integration.extensions import db, queues
from integration.models import ImportRun, ImportStatus, Location
from integration.views.session_auth import require_session

bp = Blueprint("api", __name__, url_prefix="/api")


def _import_json(run: ImportRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "status": run.status,
        "locations": run.locations,
        "variants": run.variants,
        "inventory_levels": run.inventory_levels,
        "error": run.error,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def _latest_import(shop_id: int) -> ImportRun | None:
    return db.session.execute(
        select(ImportRun).where(ImportRun.shop_id == shop_id).order_by(ImportRun.id.desc()).limit(1)
    ).scalar_one_or_none()


@bp.get("/shop")
@require_session
def shop():
    s = g.shop
    return jsonify(
        domain=s.domain,
        name=s.name,
        status=s.status,
        scopes=s.scopes.split(",") if s.scopes else [],
        installed_at=s.installed_at.isoformat(),
        last_import=_import_json(_latest_import(s.id)),
    )


@bp.get("/locations")
@require_session
def locations():
    rows = db.session.execute(
        select(Location).where(Location.shop_id == g.shop.id, Location.deleted_at.is_(None)).order_by(Location.name)
    ).scalars()
    return jsonify(
        locations=[
            {"id": loc.shopify_id, "name": loc.name, "country_code": loc.country_code, "active": loc.active}
            for loc in rows
        ]
    )


@bp.get("/imports")
@require_session
def imports():
    runs = db.session.execute(
        select(ImportRun).where(ImportRun.shop_id == g.shop.id).order_by(ImportRun.id.desc()).limit(20)
    ).scalars()
    return jsonify(imports=[_import_json(r) for r in runs])


@bp.post("/imports")
@require_session
def start_import():
    latest = _latest_import(g.shop.id)
    if latest and latest.status in (ImportStatus.PENDING, ImportStatus.RUNNING, ImportStatus.PROCESSING):
        raise APIError(409, "import_running", "an import is already running")
    job = queues.enqueue("sync", job_catalog.START_IMPORT, g.shop.id,
                         job_id=job_catalog.import_id(g.shop.id, (latest.id if latest else 0) + 1), unique=True)
    if job is None:
        raise APIError(409, "import_running", "an import is already queued")
    return jsonify(queued=True, job_id=job.id), 202
