"""The embedded admin page. It is served without a session (Shopify loads it in an iframe);
everything it shows comes from /api/*, which App Bridge calls with a session token."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from integration.shops.verification import is_valid_shop_domain

bp = Blueprint("admin", __name__)


@bp.get("/admin")
def home():
    shop = request.args.get("shop", "")
    config = current_app.config["NEARSTOCK"]
    response = current_app.make_response(
        render_template("admin.html", api_key=config.shopify_api_key, shop=shop if is_valid_shop_domain(shop) else "")
    )
    # Only the shop's admin may frame us (Shopify's embedded-app requirement).
    ancestors = f"https://{shop} https://admin.shopify.com" if is_valid_shop_domain(shop) else "'none'"
    response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors};"
    return response
