"""The embedded admin's warehouse setup page (see :mod:`integration.views.embedded_page`)."""

from __future__ import annotations

from flask import Blueprint

from integration.views.embedded_page import render_embedded

page_bp = Blueprint("warehouses_page", __name__)


@page_bp.get("/admin/warehouses")
def warehouses():
    return render_embedded("warehouses.html")
