"""The embedded admin's Storefront API: the stock status block's settings (pre-order, back-in-stock,
low-stock threshold, languages), its wording per language, a preview of the block, and the theme
editor links that add it to the product page.

Session-token protected; every read and write is the token's shop's (no route takes a shop). A
change is stored, committed, and every status of the shop is recomputed after the commit (the
app proxy's Redis bodies and the variants' metafields), like any storefront settings change.
Errors: ``{"error": {"code", "message", "field"?}}``, 422 naming the field for a bad value.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, request

from integration.storefront import merchant_settings
from integration.storefront import preview as block_preview
from integration.storefront.texts import SUPPORTED_LOCALES
from integration.views.request_body import read_json_object
from integration.views.session_auth import require_session
from integration.views.setup_errors import setup_error_response
from integration.warehouses.setup_validation import InvalidError, SetupError

bp = Blueprint("storefront_api", __name__, url_prefix="/api/storefront")

MAX_BODY = 64 * 1024
# The theme app extension's blocks (extensions/stock-status/blocks/<handle>.liquid).
BLOCK_HANDLE = "stock-status"
EMBED_HANDLE = "stock-status-embed"
PREVIEW_SETTINGS = ("allow_preorder", "low_stock_threshold")
TEXT_PREFIX = "text."


bp.register_error_handler(SetupError, setup_error_response)


def theme_editor_links(domain: str, api_key: str) -> dict:
    """Deep links into the live theme's editor: add the block to the product page's main section,
    or (themes without app blocks) turn on the app embed.
    https://shopify.dev/docs/apps/build/online-store/theme-app-extensions/configuration#deep-linking"""
    base = f"https://{domain}/admin/themes/current/editor?"
    return {
        "add_block": base + urlencode({"context": "apps", "template": "product",
                                       "addAppBlockId": f"{api_key}/{BLOCK_HANDLE}", "target": "mainSection"},
                                      safe="/"),
        "app_embed": base + urlencode({"context": "apps", "template": "product",
                                       "activateAppId": f"{api_key}/{EMBED_HANDLE}"}, safe="/"),
    }


def _settings_payload():
    config = current_app.config["NEARSTOCK"]
    return jsonify(settings=merchant_settings.read_settings(g.shop.id), languages=list(SUPPORTED_LOCALES),
                   theme_editor=theme_editor_links(g.shop.domain, config.shopify_api_key))


@bp.get("/settings")
@require_session
def get_settings():
    return _settings_payload()


@bp.put("/settings")
@require_session
def put_settings():
    merchant_settings.save_settings(g.shop.id, read_json_object(MAX_BODY))
    return _settings_payload()


@bp.get("/texts")
@require_session
def get_texts():
    return jsonify(merchant_settings.read_texts(g.shop.id))


@bp.put("/texts")
@require_session
def put_texts():
    return jsonify(merchant_settings.save_texts(g.shop.id, read_json_object(MAX_BODY)))


def _preview_input() -> tuple[str, str, dict, dict]:
    """(state, language, unsaved settings, unsaved texts) from the query (GET) or a JSON body
    (POST: ``{"state", "language", "settings": {...}, "texts": {key: template}}``, for wording
    longer than a URL may carry)."""
    if request.method == "POST":
        data = read_json_object(MAX_BODY)
        state, language = data.get("state"), data.get("language")
        settings, texts = data.get("settings") or {}, data.get("texts") or {}
    else:
        args = request.args
        state, language = args.get("state"), args.get("language")
        settings = {}
        for key in PREVIEW_SETTINGS:
            if key in args:
                settings[key] = _query_value(key, args[key])
        texts = {k.removeprefix(TEXT_PREFIX): v for k, v in args.items() if k.startswith(TEXT_PREFIX)}
    if state not in block_preview.STATES:
        raise InvalidError("state", f"must be one of {', '.join(block_preview.STATES)}")
    if language in (None, ""):
        language = "en"
    if language not in SUPPORTED_LOCALES:
        raise InvalidError("language", f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    settings = merchant_settings.clean_settings(settings)
    unknown = set(settings) - set(PREVIEW_SETTINGS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidError(field, f"the preview takes only {', '.join(PREVIEW_SETTINGS)}")
    cleaned = merchant_settings.clean_texts({language: texts}, "texts")[language]
    return state, language, settings, cleaned


def _query_value(key: str, raw: str):
    if key == "allow_preorder":
        if raw not in ("true", "false", "1", "0"):
            raise InvalidError(key, "must be true or false")
        return raw in ("true", "1")
    try:
        return int(raw)
    except ValueError:
        raise InvalidError(key, "must be an integer") from None


@bp.route("/preview", methods=["GET", "POST"])
@require_session
def preview():
    state, language, settings, texts = _preview_input()
    return jsonify(block_preview.preview(g.shop, state, language, settings=settings, texts=texts))
