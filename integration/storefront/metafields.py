"""The first paint of the storefront status: each variant's ``$app:nearstock.status`` metafield.

Written with ``metafieldsSet`` (25 per call) only for variants whose status document changed
since the last write that Shopify accepted (``variant_stock_states.digest`` vs
``synced_digest``); each accepted call is recorded at once, so a retried job resumes where the
failed one stopped. The metafield must be readable by the storefront: the app declares its
definition (``$app:nearstock`` / ``status``, type ``json``, storefront access ``PUBLIC_READ``).
https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog
from sqlalchemy import and_, bindparam, or_, select, update

from connectors.errors import AuthError, PermanentError
from integration.domain.batching import chunks
from integration.domain.channels import MetafieldInput
from integration.domain.ports import ShopifyStore
from integration.extensions import db
from integration.models import Shop
from integration.models.base import utcnow
from integration.models.storefront import VariantStockState
from integration.shops.alerts import raise_alert
from integration.storefront.wire import digest_of

log = structlog.get_logger(__name__)

NAMESPACE = "$app:nearstock"
KEY = "status"
TYPE = "json"
PER_CALL = 25  # metafieldsSet accepts at most 25 metafields per call


def pending(shop_id: int, gids: Sequence[str]) -> list[tuple[str, str]]:
    """(variant gid, digest) of these variants whose metafield is behind."""
    if not gids:
        return []
    return [tuple(r) for r in db.session.execute(
        select(VariantStockState.variant_shopify_id, VariantStockState.digest)
        .where(VariantStockState.shop_id == shop_id, VariantStockState.variant_shopify_id.in_(list(gids)),
               or_(VariantStockState.synced_digest.is_(None),
                   VariantStockState.synced_digest != VariantStockState.digest))
        .order_by(VariantStockState.variant_shopify_id))]


def sync(shop: Shop, gids: Sequence[str], *, encoded_by_variant: Mapping[str, str], stats) -> None:
    """Write the metafields of ``gids`` that are behind (their documents in ``encoded_by_variant``)."""
    from integration.shops.shopify_client import store_for

    behind = [(gid, digest) for gid, digest in pending(shop.id, gids)
              if gid in encoded_by_variant and digest_of(encoded_by_variant[gid]) == digest]
    db.session.commit()  # no transaction open while Shopify answers
    if not behind:
        return
    try:
        store = store_for(shop)
    except AuthError as exc:
        log.warning("storefront.metafields_no_token", shop_id=shop.id, error=str(exc))
        return
    for chunk in chunks(behind, PER_CALL):
        _write(store, shop.id, chunk, encoded_by_variant, stats)


def _write(store: ShopifyStore, shop_id: int, chunk: Sequence[tuple[str, str]], encoded: Mapping[str, str],
           stats) -> None:
    inputs = [MetafieldInput(owner_id=gid, key=KEY, value=encoded[gid], type=TYPE, namespace=NAMESPACE)
              for gid, _digest in chunk]
    stats.metafield_calls += 1
    try:
        store.set_metafields(inputs)
    except PermanentError as exc:
        if len(chunk) > 1:  # one bad owner (a variant deleted in Shopify) must not hold back the rest
            middle = len(chunk) // 2
            _write(store, shop_id, chunk[:middle], encoded, stats)
            _write(store, shop_id, chunk[middle:], encoded, stats)
            return
        gid = chunk[0][0]
        log.error("storefront.metafield_refused", shop_id=shop_id, variant=gid, error=exc.message)
        raise_alert(shop_id, "storefront_metafield_refused", gid[:128],
                    f"Shopify refused the stock status of {gid}: {exc.message}", {"variant": gid})
        db.session.commit()
        return
    _mark_synced(shop_id, chunk)
    stats.metafields += len(chunk)


def _mark_synced(shop_id: int, chunk: Sequence[tuple[str, str]]) -> None:
    # Only if the document is still the one written: a newer one computed meanwhile stays behind.
    table = VariantStockState.__table__
    db.session.execute(
        update(table)
        .where(and_(table.c.shop_id == shop_id, table.c.variant_shopify_id == bindparam("b_gid"),
                    table.c.digest == bindparam("b_digest")))
        .values(synced_digest=bindparam("b_digest"), synced_at=utcnow()),
        [{"b_gid": gid, "b_digest": digest} for gid, digest in chunk],
    )
    db.session.commit()
