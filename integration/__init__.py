"""The Nearstock Flask app. ``create_app`` is only a list of init_app/register calls."""

from __future__ import annotations

from flask import Flask

from integration.config import Config


def create_app(config: Config | None = None) -> Flask:
    from integration import cli, errors, metrics, request_context, views, wiring
    from integration.extensions import db, queues, redis, vault
    from integration.logging import configure_logging
    from integration.views import edge_input

    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_path))
    app.config.update(
        NEARSTOCK=config,
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_webhook_bytes,
        JSON_SORT_KEYS=False,
    )
    configure_logging(config.log_level, json=config.log_json)
    vault.init_app(app)
    db.init_app(app)
    redis.init_app(app)
    queues.init_app(app)
    request_context.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    edge_input.init_app(app)
    views.register(app)
    wiring.connect()
    cli.init_app(app)
    return app
