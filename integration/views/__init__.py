"""Blueprints: health, webhooks (and, with later issues, auth, admin, proxy, api)."""

from flask import Flask


def register(app: Flask) -> None:
    from integration.views import health, webhooks

    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
