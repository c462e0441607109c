"""The app's configuration as Shopify holds it once ``shopify app deploy`` has pushed
``shopify.app.toml``: its app-specific webhook subscriptions.

https://shopify.dev/docs/apps/build/webhooks/subscribe/get-started (app-specific subscriptions)
Each ``[[webhooks.subscriptions]]`` names ``topics`` and/or ``compliance_topics`` and a ``uri``: an
https URL, or a path, relative to the app URL. Shopify then delivers those topics for every shop
that has the app installed, with the ``[webhooks] api_version``; no per-shop call is needed (and
one made as well is a second subscription: each event would be delivered twice).

Read strictly, like the CLI validates it before a deploy: a setting the emulator cannot honour
(``filter``, ``include_fields``) is refused rather than silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .graphql_api import load_schema
from .webhooks import check_uri, topic_enum

PROJECT_TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
TOPIC_RE = re.compile(r"^[a-z_]+/[a-z_]+$")
VERSION_RE = re.compile(r"^\d{4}-\d{2}$|^unstable$")
SUBSCRIPTION_KEYS = {"topics", "compliance_topics", "uri"}


class AppConfigError(ValueError):
    """The app configuration would be refused on deploy; the message names the setting."""


@dataclass(frozen=True)
class Subscription:
    topics: frozenset[str]
    uri: str  # as declared: "/webhooks/shopify" or an absolute URL

    def address(self, app_url: str | None) -> str | None:
        """Where a delivery goes; None for a relative uri while the app URL is unknown."""
        if not self.uri.startswith("/"):
            return self.uri
        return app_url.rstrip("/") + self.uri if app_url else None


@dataclass(frozen=True)
class AppConfig:
    api_version: str
    subscriptions: tuple[Subscription, ...]

    @classmethod
    def load(cls, path: Path | str = PROJECT_TOML) -> AppConfig:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AppConfigError(f"{path}: {exc}") from None
        return cls.parse(data)

    @classmethod
    def parse(cls, data: dict) -> AppConfig:
        webhooks = data.get("webhooks")
        if not isinstance(webhooks, dict):
            return cls(api_version="", subscriptions=())
        version = webhooks.get("api_version")
        if not isinstance(version, str) or not VERSION_RE.match(version):
            raise AppConfigError(f"webhooks.api_version must be a version such as 2026-07, got {version!r}")
        raw = webhooks.get("subscriptions", [])
        if not isinstance(raw, list):
            raise AppConfigError("webhooks.subscriptions must be an array of tables")
        return cls(api_version=version, subscriptions=tuple(_subscription(i, s) for i, s in enumerate(raw)))

    @property
    def topics(self) -> frozenset[str]:
        return frozenset().union(*(s.topics for s in self.subscriptions))

    @property
    def relative(self) -> bool:
        """Whether some address is relative (it then needs the app URL)."""
        return any(s.uri.startswith("/") for s in self.subscriptions)

    def addresses(self, topic: str, app_url: str | None) -> list[str]:
        """The HTTP(S) addresses ``topic`` is delivered to (Pub/Sub and EventBridge left out)."""
        found = (s.address(app_url) for s in self.subscriptions if topic in s.topics)
        return [a for a in found if a and a.startswith(("http://", "https://"))]


def _subscription(index: int, raw) -> Subscription:
    where = f"webhooks.subscriptions[{index}]"
    if not isinstance(raw, dict):
        raise AppConfigError(f"{where} must be a table")
    unknown = set(raw) - SUBSCRIPTION_KEYS
    if unknown:
        raise AppConfigError(f"{where}: {', '.join(sorted(unknown))} not supported by the emulator")
    topics = _topics(where, raw, "topics")
    compliance = _topics(where, raw, "compliance_topics")
    if topics & COMPLIANCE_TOPICS:
        raise AppConfigError(f"{where}.topics: {', '.join(sorted(topics & COMPLIANCE_TOPICS))} "
                             "belong in compliance_topics")
    unknown_topics = sorted(t for t in topics if topic_enum(t) not in _api_topics())
    if unknown_topics:
        raise AppConfigError(f"{where}.topics: {', '.join(unknown_topics)} is not a webhook topic")
    if compliance - COMPLIANCE_TOPICS:
        raise AppConfigError(f"{where}.compliance_topics: unknown {', '.join(sorted(compliance - COMPLIANCE_TOPICS))}")
    if not topics and not compliance:
        raise AppConfigError(f"{where} declares no topics")
    uri = raw.get("uri")
    if not isinstance(uri, str) or not uri:
        raise AppConfigError(f"{where}.uri is required")
    if not uri.startswith("/"):
        problem = check_uri(uri)
        if problem:
            raise AppConfigError(f"{where}.uri: {problem}")
    return Subscription(topics=topics | compliance, uri=uri)


def _api_topics() -> set[str]:
    """The topics Shopify knows: the schema's ``WebhookSubscriptionTopic`` values."""
    return set(load_schema().get_type("WebhookSubscriptionTopic").values)


def _topics(where: str, raw: dict, key: str) -> frozenset[str]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(t, str) and TOPIC_RE.match(t) for t in values):
        raise AppConfigError(f"{where}.{key} must be a list of topics such as orders/create")
    return frozenset(values)
