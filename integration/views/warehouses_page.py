"""The embedded admin's warehouse setup page. Like /admin it is served without a session (Shopify
loads it in an iframe); everything it shows and changes goes through /api/*, which App Bridge
calls with a session token."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from integration.shops.verification import is_valid_shop_domain

page_bp = Blueprint("warehouses_page", __name__)


@page_bp.get("/admin/warehouses")
def warehouses():
    shop = request.args.get("shop", "")
    shop = shop if is_valid_shop_domain(shop) else ""
    config = current_app.config["NEARSTOCK"]
    response = current_app.make_response(render_template("warehouses.html", api_key=config.shopify_api_key, shop=shop))
    # Only the shop's admin may frame us (Shopify's embedded-app requirement); no plugins, no
    # <base> rewriting, forms post only to us.
    ancestors = f"https://{shop} https://admin.shopify.com" if shop else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'; form-action 'self';"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response
