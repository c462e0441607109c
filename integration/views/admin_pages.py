"""Every page of the embedded admin, each a template under ``templates/admin/`` that extends
``admin/base.html`` (which holds the app nav) and fills itself from ``/api/*``
(see :mod:`integration.views.embedded_page`)."""

from __future__ import annotations

from flask import Blueprint, current_app

from integration.views.embedded_page import render_embedded
from integration.warehouses import connect_form

bp = Blueprint("admin_pages", __name__)

# URL -> template; the nav in admin/base.html lists them in this order.
PAGES = {
    "/admin": "home",
    "/admin/orders": "orders",
    "/admin/stock": "stock",
    "/admin/warehouses": "warehouses",
    "/admin/storefront": "storefront",
    "/admin/notices": "notices",
    "/admin/loyalty": "loyalty",
    "/admin/feedback": "feedback",
    "/admin/amazon": "amazon",
    "/admin/insights": "insights",
    "/admin/aftersales": "aftersales",
}


def _warehouses_context() -> dict:
    # The development banner is in the page from the start: shown later, it would push the page down.
    return {"warehouse_sandbox": connect_form.sandbox(current_app.config["NEARSTOCK"])}


def _amazon_context() -> dict:
    # Whether the server can connect Amazon at all is known now: the page lays itself out for it
    # from the start instead of swapping sections once its first call answers.
    return {"amazon_enabled": current_app.config["NEARSTOCK"].amazon_enabled}


# What a page needs from the server beyond the common context (the rest comes from /api/*).
PAGE_CONTEXT = {"warehouses": _warehouses_context, "amazon": _amazon_context}


def _page_view(name: str):
    def view():
        extra = PAGE_CONTEXT[name]() if name in PAGE_CONTEXT else {}
        return render_embedded(f"admin/{name}.html", page=name, **extra)

    view.__name__ = name
    return view


for _path, _name in PAGES.items():
    bp.add_url_rule(_path, view_func=_page_view(_name))


@bp.get("/admin/orders/<id:order_id>")
def order(order_id: int):
    return render_embedded("admin/order.html", page="orders", order_id=order_id)


@bp.get("/admin/aftersales/returns/<id:return_id>")
def aftersales_return(return_id: int):
    return render_embedded("admin/aftersales_return.html", page="aftersales", return_id=return_id)
