"""Connecting a shop's Amazon seller account (SP-API website authorization workflow).

1. :func:`start`: the merchant picks marketplaces of one region; we sign a ``state`` naming the
   shop, those marketplaces and a nonce, and build Seller Central's consent URL for the region.
2. Amazon sends the seller's browser back to ``$APP_URL/amazon/callback`` with ``state``,
   ``selling_partner_id`` and ``spapi_oauth_code``. :func:`claim_state` checks the signature and
   age, then claims the nonce in Redis (``SET NX``): a state works once, on any process.
3. :func:`connect`: the code (single use, valid five minutes) is exchanged for the seller's refresh
   token, which is stored encrypted on the shop's account for that seller -- insert-or-get on
   ``(shop_id, seller_id)``, so connecting again updates the account instead of adding one -- and
   the first order import is queued.
https://developer-docs.amazon.com/sp-api/docs/website-authorization-workflow

The state is the only thing that ties the callback to a shop (Amazon's redirect carries no
session token), so it is signed with a key of its own and names the shop by id; nothing from the
callback's query can pick another shop.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import structlog
from itsdangerous import BadSignature, SignatureExpired
from redis.exceptions import RedisError
from sqlalchemy import delete, select, update

from connectors.errors import AuthError, ConnectorError, PermanentError, RetryableError
from integration import job_catalog
from integration.amazon.channel import DISCONNECTED_ALERT
from integration.amazon.sp_api_client import authorizer_for, lwa_token_url
from integration.config import Config
from integration.domain.ports import AmazonAuthorizer
from integration.extensions import db, queues, redis
from integration.models import Alert, Shop
from integration.models.amazon import AmazonAccount
from integration.models.shop import ShopStatus
from integration.models.upsert import insert
from integration.security import signer

log = structlog.get_logger(__name__)

CALLBACK_PATH = "/amazon/callback"
STATE_PURPOSE = "amazon-consent-state"
STATE_TTL = 900  # seconds: signing in to Seller Central (with 2-step verification) takes a while
MAX_MARKETPLACES = 20
MAX_NAME = 100
SELLER_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


class ConnectError(Exception):
    """The connect flow cannot go on; ``status``/``code`` become the HTTP answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Pending:
    """What a verified state says: which shop asked, for which marketplaces."""

    shop_id: int
    nonce: str
    marketplaces: tuple[str, ...]
    name: str


def redirect_uri(config: Config) -> str:
    """Register exactly this URI with the app in Seller Central's developer console."""
    return f"{config.app_url}{CALLBACK_PATH}"


def region_of(authorizer: AmazonAuthorizer, marketplace_ids: list[str] | tuple[str, ...]) -> str:
    """``na``, ``eu`` or ``fe``: the SP-API region serving every one of these marketplaces."""
    regions = set()
    for marketplace_id in marketplace_ids:
        try:
            regions.add(authorizer.region_of(marketplace_id))
        except PermanentError:
            raise ConnectError(400, "unknown_marketplace", f"unknown Amazon marketplace {marketplace_id!r}") from None
    if len(regions) != 1:
        # One authorization (refresh token) and one Seller Central per region: connect each apart.
        raise ConnectError(400, "mixed_regions", "choose marketplaces of one region; connect each region separately")
    return regions.pop()


def _marketplaces(raw) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(m, str) and 0 < len(m) <= 32 for m in raw):
        raise ConnectError(400, "invalid_marketplaces", "marketplaces must be a list of Amazon marketplace ids")
    unique = tuple(dict.fromkeys(m.strip() for m in raw))
    if len(unique) > MAX_MARKETPLACES:
        raise ConnectError(400, "invalid_marketplaces", f"at most {MAX_MARKETPLACES} marketplaces")
    return unique


def start(config: Config, shop_id: int, body: dict) -> str:
    """The Seller Central consent URL for this shop and the marketplaces in ``body``."""
    if not config.amazon_enabled:
        raise ConnectError(409, "amazon_not_configured",
                           "this deployment has no Amazon application (AMAZON_APPLICATION_ID is not set)")
    marketplaces = _marketplaces(body.get("marketplaces"))
    authorizer = authorizer_for(config)
    region = region_of(authorizer, marketplaces)
    name = body.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise ConnectError(400, "invalid_name", f"name must be text of at most {MAX_NAME} characters")
    nonce = secrets.token_urlsafe(18)
    state = signer(STATE_PURPOSE).dumps({"s": shop_id, "n": nonce, "m": list(marketplaces), "a": name.strip()})
    try:
        url = authorizer.consent_url(state, marketplace_id=marketplaces[0], redirect_uri=redirect_uri(config))
    except PermanentError as exc:  # a marketplace without a known Seller Central
        raise ConnectError(400, "unknown_marketplace", str(exc)) from None
    log.info("amazon_connect.started", shop_id=shop_id, region=region, marketplaces=list(marketplaces))
    return url


def claim_state(raw: str) -> Pending:
    """The verified, not yet used state, now used; a forged, expired or replayed one is refused."""
    if not raw or len(raw) > 2048:
        log.warning("amazon_connect.state_missing")
        raise ConnectError(403, "invalid_state", "the Amazon authorization has no valid state; start again in the app")
    try:
        data = signer(STATE_PURPOSE).loads(raw, max_age=STATE_TTL)
    except SignatureExpired:
        log.warning("amazon_connect.state_expired")
        raise ConnectError(403, "expired_state", "the Amazon authorization took too long; start again in the app") \
            from None
    except BadSignature:
        log.warning("amazon_connect.state_forged")
        raise ConnectError(403, "invalid_state", "the Amazon authorization state is not ours") from None
    try:
        pending = Pending(shop_id=int(data["s"]), nonce=str(data["n"]), marketplaces=tuple(data["m"]),
                          name=str(data.get("a") or ""))
    except (KeyError, TypeError, ValueError):
        log.warning("amazon_connect.state_malformed")
        raise ConnectError(403, "invalid_state", "the Amazon authorization state is not ours") from None
    # Single use across every web process: the first callback with this nonce claims it.
    try:
        claimed = redis.client.set(f"nearstock:amazon-state:{pending.nonce}", "1", nx=True, ex=STATE_TTL * 2)
    except RedisError:
        log.warning("amazon_connect.redis_unavailable", shop_id=pending.shop_id)
        raise ConnectError(503, "unavailable", "try again in a moment") from None
    if not claimed:
        log.warning("amazon_connect.state_replayed", shop_id=pending.shop_id)
        raise ConnectError(403, "invalid_state", "this Amazon authorization was already used; start again in the app")
    return pending


def connect(config: Config, pending: Pending, query, raw_state: str) -> tuple[Shop, AmazonAccount, bool]:
    """Exchange the callback's code and store the account; returns (shop, account, created)."""
    shop = db.session.get(Shop, pending.shop_id)
    if shop is None or shop.status != ShopStatus.INSTALLED:
        log.warning("amazon_connect.shop_gone", shop_id=pending.shop_id)
        raise ConnectError(403, "shop_not_installed", "the shop that started this authorization no longer has the app")
    if not config.amazon_enabled:
        raise ConnectError(409, "amazon_not_configured", "this deployment has no Amazon application")
    domain = shop.domain
    db.session.commit()  # no transaction held open across the HTTP call to LWA
    error = str(query.get("error") or "")
    if error:
        # The seller declined, or Amazon refused the request (e.g. MD1000 for a draft app without
        # version=beta). Nothing is stored; the state is spent.
        log.warning("amazon_connect.refused_by_amazon", shop=domain, error=error[:64])
        raise ConnectError(400, "authorization_refused", f"Amazon did not authorize the app ({error[:64]})")
    authorizer = authorizer_for(config)
    try:
        callback = authorizer.read_callback(query, expected_state=raw_state)
    except AuthError:
        log.warning("amazon_connect.no_code", shop=domain)
        raise ConnectError(400, "invalid_callback", "Amazon's answer has no authorization code or seller id") from None
    if not SELLER_ID.match(callback.selling_partner_id) or len(callback.code) > 512:
        log.warning("amazon_connect.malformed_callback", shop=domain)
        raise ConnectError(400, "invalid_callback", "Amazon's answer is malformed")
    try:
        granted = authorizer.exchange_code(callback.code, selling_partner_id=callback.selling_partner_id,
                                           redirect_uri=redirect_uri(config))
    except AuthError as exc:
        log.warning("amazon_connect.code_rejected", shop=domain, code=exc.code)
        raise ConnectError(400, "code_rejected", "Amazon did not accept the authorization code (it works once, "
                                                 "for five minutes); start again in the app") from None
    except RetryableError as exc:
        log.warning("amazon_connect.lwa_unavailable", shop=domain, error=str(exc))
        raise ConnectError(503, "amazon_unavailable", "Amazon is not answering; start again in a moment") from None
    except ConnectorError as exc:
        log.warning("amazon_connect.exchange_failed", shop=domain, error=str(exc))
        raise ConnectError(502, "token_exchange_failed", "Amazon did not complete the authorization") from None
    account_id, created = store_account(config, pending.shop_id, callback.selling_partner_id, granted.refresh_token,
                                        marketplaces=pending.marketplaces, name=pending.name)
    _queue_first_import(account_id, pending.nonce)
    log.info("amazon_connect.connected", shop=domain, account_id=account_id, created=created,
             seller_id=callback.selling_partner_id)
    return shop, db.session.get(AmazonAccount, account_id), created


def store_account(config: Config, shop_id: int, seller_id: str, refresh_token: str, *,
                  marketplaces: tuple[str, ...], name: str = "") -> tuple[int, bool]:
    """Insert-or-update the shop's account for ``seller_id``; returns (account id, created)."""
    region = region_of(authorizer_for(config), marketplaces)
    key = {"shop_id": shop_id, "seller_id": seller_id}
    values = {
        "region": region,
        "marketplaces": list(marketplaces),
        "lwa_client_id": config.amazon_lwa_client_id,
        "lwa_client_secret": config.amazon_lwa_client_secret,
        "refresh_token": refresh_token,
        "endpoint": config.amazon_endpoint or None,
        "lwa_token_url": lwa_token_url(config),
        "active": True,
    }
    table = AmazonAccount.__table__
    # Never check-then-insert: two callbacks racing for one seller cannot both create a row.
    created_id = db.session.execute(
        insert(table).values({**key, **values, "name": name or f"Amazon {region.upper()}"})
        .on_conflict_do_nothing(index_elements=list(key)).returning(table.c.id)
    ).scalar()
    if created_id is not None:
        db.session.commit()
        return created_id, True
    if name:
        values["name"] = name
    account_id = db.session.execute(
        update(table).where(table.c.shop_id == shop_id, table.c.seller_id == seller_id).values(values)
        .returning(table.c.id)
    ).scalar_one()
    # Connected again: the "disconnected" alert is over (its shipments are confirmed by the sweep).
    db.session.execute(delete(Alert).where(Alert.shop_id == shop_id, Alert.kind == DISCONNECTED_ALERT,
                                           Alert.subject == f"account:{account_id}"))
    db.session.commit()
    db.session.expire_all()  # the update bypassed the identity map
    return account_id, False


def _queue_first_import(account_id: int, nonce: str) -> None:
    try:
        queues.enqueue("sync", job_catalog.IMPORT_AMAZON_ORDERS, account_id,
                       job_id=job_catalog.amazon_orders_on_connect_id(account_id, nonce), unique=True)
    except RedisError as exc:
        # The account is stored; the cron's import round (every five minutes) picks it up.
        log.warning("amazon_connect.first_import_not_queued", account_id=account_id, error=str(exc))


def list_accounts(shop_id: int) -> list[AmazonAccount]:
    return list(db.session.execute(select(AmazonAccount).where(AmazonAccount.shop_id == shop_id)
                                   .order_by(AmazonAccount.id)).scalars())


def disconnect(shop_id: int, account_id: int) -> AmazonAccount:
    """Stop syncing the account and forget its refresh token (connecting again restores both).

    The row stays: imported orders keep their marketplace link (``amazon_orders``). The seller
    revokes the authorization itself in Seller Central (Manage Your Apps)."""
    account = db.session.execute(select(AmazonAccount).where(
        AmazonAccount.id == account_id, AmazonAccount.shop_id == shop_id)).scalar_one_or_none()
    if account is None:  # another shop's id answers exactly like a missing one
        raise ConnectError(404, "not_found", "no such Amazon account")
    account.active = False
    account.refresh_token = ""
    db.session.commit()
    log.info("amazon_connect.disconnected", shop_id=shop_id, account_id=account_id)
    return account
