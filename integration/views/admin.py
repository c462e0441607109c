"""The embedded admin's home page (see :mod:`integration.views.embedded_page`)."""

from __future__ import annotations

from flask import Blueprint

from integration.views.embedded_page import render_embedded

bp = Blueprint("admin", __name__)


@bp.get("/admin")
def home():
    return render_embedded("admin.html")
