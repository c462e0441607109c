"""Amazon FBA as a warehouse account, linked to one of the shop's connected Amazon accounts.

FBA needs the seller's SP-API authorization, which only the Amazon connect flow
(:mod:`integration.amazon.connect`) obtains: a merchant has no LWA client secret or refresh token
to type in. So an FBA warehouse account stores just ``{"amazon_account_id": "<id>"}``, and its
connector is built from that Amazon account as it is *now* — LWA credentials, refresh token,
seller id, marketplaces, endpoint — so re-authorizing Amazon carries over, and disconnecting it
stops FBA too. (An FBA account stored with explicit credentials, as tests and older rows have,
is built from those.)
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from connectors.errors import AuthError
from integration.extensions import db
from integration.models.amazon import AmazonAccount
from integration.warehouses.setup_validation import InvalidError

PROVIDER = "fba"
LINK_KEY = "amazon_account_id"


def _connected(account: AmazonAccount | None) -> bool:
    return account is not None and account.active and bool(account.refresh_token) and bool(account.marketplaces)


def _linked(shop_id: int, raw) -> AmazonAccount | None:
    """The shop's connected Amazon account with this id; None for another shop's or a disconnected one."""
    raw = str(raw).strip()
    if not raw.isdigit() or len(raw) > 18:
        return None
    account = db.session.execute(select(AmazonAccount).where(
        AmazonAccount.id == int(raw), AmazonAccount.shop_id == shop_id)).scalar_one_or_none()
    return account if _connected(account) else None


def linkable_accounts(shop_id: int) -> list[dict]:
    """The shop's connected Amazon accounts, as the connect form lists them."""
    rows = db.session.execute(select(AmazonAccount).where(AmazonAccount.shop_id == shop_id)
                              .order_by(AmazonAccount.id)).scalars()
    return [{"id": a.id, "name": a.name, "marketplaces": list(a.marketplaces)} for a in rows if _connected(a)]


def link_credentials(shop_id: int, creds: Mapping[str, str], endpoint: str | None) -> dict[str, str]:
    """The credentials to store for an FBA account: exactly the link to a connected Amazon account
    of this shop (another shop's id reads as unknown)."""
    if set(creds) != {LINK_KEY}:
        raise InvalidError("credentials", f"FBA is connected through your Amazon account: give only {LINK_KEY}",
                           code="fba_needs_amazon_account")
    if endpoint is not None:
        raise InvalidError("endpoint", "FBA uses the endpoint of the linked Amazon account")
    account = _linked(shop_id, creds[LINK_KEY])
    if account is None:
        raise InvalidError(f"credentials.{LINK_KEY}", "is not one of this shop's connected Amazon accounts; "
                                                      "connect Amazon first", code="amazon_not_connected")
    return {LINK_KEY: str(account.id)}


def resolve(shop_id: int, creds: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """(FBA connector credentials, endpoint) of a linked account, read from the Amazon account."""
    account = _linked(shop_id, creds.get(LINK_KEY, ""))
    if account is None:
        raise AuthError("the Amazon account this FBA account uses is disconnected; connect Amazon again",
                        code="amazon_disconnected", system=PROVIDER)
    fba = {"client_id": account.lwa_client_id, "client_secret": account.lwa_client_secret,
           "refresh_token": account.refresh_token, "selling_partner_id": account.seller_id,
           "marketplace_ids": ",".join(account.marketplaces)}
    if account.lwa_token_url:
        fba["lwa_token_url"] = account.lwa_token_url
    return fba, account.endpoint or None
