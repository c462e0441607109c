"""Every page of the embedded admin, each a template under ``templates/admin/`` that extends
``admin/base.html`` (which holds the app nav) and fills itself from ``/api/*``
(see :mod:`integration.views.embedded_page`)."""

from __future__ import annotations

from flask import Blueprint

from integration.views.embedded_page import render_embedded

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
}


def _page_view(name: str):
    def view():
        return render_embedded(f"admin/{name}.html", page=name)

    view.__name__ = name
    return view


for _path, _name in PAGES.items():
    bp.add_url_rule(_path, view_func=_page_view(_name))


@bp.get("/admin/orders/<id:order_id>")
def order(order_id: int):
    return render_embedded("admin/order.html", page="orders", order_id=order_id)
