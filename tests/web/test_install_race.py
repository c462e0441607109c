"""The admin's first load fires several API calls at once, each exchanging its own session token
for the same new shop: every one of them succeeds and the shop is stored once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from integration.domain.authorization import TokenSet
from integration.extensions import db
from integration.models import Shop
from integration.shops import installation

DOMAIN = "racing.myshopify.com"


def test_concurrent_first_token_exchanges_store_one_shop(app):
    start, errors, stored = threading.Barrier(4), [], []

    def exchange(n: int) -> None:
        with app.app_context():
            try:
                tokens = TokenSet(f"shpat_{n}", ("read_orders",), None, None, None)
                start.wait()
                stored.append(installation.store_tokens(DOMAIN, tokens, installing=True).id)
            except Exception as exc:  # any failure is the test's finding
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=exchange, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(stored)) == 1 and len(stored) == 4
    assert db.session.execute(select(func.count()).select_from(Shop).where(Shop.domain == DOMAIN)).scalar() == 1
