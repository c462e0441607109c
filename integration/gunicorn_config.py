"""gunicorn's configuration module (the Procfile's web line: ``--config python:integration.gunicorn_config``):
the settings that follow the Nearstock configuration, and the server hooks.

* Where it listens: every interface in production (a container or PaaS router reaches it from
  outside), loopback only in development and testing, so a laptop on a shared network serves
  nobody else.
* How it logs: through the app's structured logging (integration/logging.py), the access log
  included. An access line holds the method, the route's pattern, the status, the duration and
  the request id; never the query string, a body, a header or the client's address, which can
  carry a customer's e-mail address or other personal data.
* The multiprocess metrics directory's housekeeping (integration/metrics_files.py).
"""

from __future__ import annotations

import structlog
from gunicorn import glogging

from integration.config import Config, ConfigError
from integration.logging import configure_logging
from integration.metrics_files import child_exit, on_starting  # noqa: F401 - gunicorn reads its hooks here
from integration.request_context import REQUEST_ID_KEY, ROUTE_KEY

try:
    SETTINGS = Config.from_env()
except ConfigError as exc:
    raise SystemExit(f"nearstock: {exc}") from None

_HOST = "0.0.0.0" if SETTINGS.is_production else "127.0.0.1"  # noqa: S104 - production listens behind its router
_access_log = structlog.get_logger("gunicorn.access")


class StructuredLogger(glogging.Logger):
    """gunicorn's error and access logs as structlog lines on the app's log handler."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # gunicorn adds its own plain-text handlers; the records go to the root logger instead,
        # whose handler configure_logging sets up (the master never creates the app, so here).
        for log in (self.error_log, self.access_log):
            for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
                log.removeHandler(handler)
            log.propagate = True
        configure_logging(SETTINGS.log_level, json=SETTINGS.log_json)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        _access_log.info("http.request", method=environ.get("REQUEST_METHOD"), path=environ.get(ROUTE_KEY),
                         status=resp.status_code, duration_ms=round(request_time.total_seconds() * 1000, 1),
                         request_id=environ.get(REQUEST_ID_KEY))


# gunicorn setting names (it reads every module attribute it knows).
bind = [f"{_HOST}:{SETTINGS.port}"]
logger_class = StructuredLogger
accesslog = "-"  # on; where it goes is the root handler's business (see StructuredLogger.setup)
