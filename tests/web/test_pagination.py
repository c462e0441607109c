"""Server pagination of the admin's lists: bounded parameters, one page plus whether more exist."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration.errors import APIError
from integration.extensions import db
from integration.models import Location
from integration.views.pagination import MAX_LIMIT, page_args, paginate
from tests.web.test_auth_security import add_shop


@pytest.fixture
def locations(app):
    shop = add_shop("pages.myshopify.com")
    db.session.add_all(Location(shop_id=shop.id, shopify_id=f"gid://shopify/Location/{i}", name=f"L{i:02d}")
                       for i in range(5))
    db.session.commit()
    return select(Location).where(Location.shop_id == shop.id).order_by(Location.name)


def test_pages_forward_and_back(app, locations):
    names = lambda result: [loc.name for loc in result["items"]]  # noqa: E731
    first, last = paginate(locations, 1, 2), paginate(locations, 3, 2)
    assert (names(first), first["has_next_page"], first["has_previous_page"]) == (["L00", "L01"], True, False)
    assert (names(last), last["has_next_page"], last["has_previous_page"]) == (["L04"], False, True)
    assert paginate(locations, 2, 2, to_json=lambda loc: loc.name)["items"] == ["L02", "L03"]


@pytest.mark.parametrize("query, expected",
                         [("", (1, 50)), ("?page=3&limit=100", (3, 100)), ("?page=&limit=", (1, 50))])
def test_page_args(app, query, expected):
    with app.test_request_context(f"/api/x{query}"):
        assert page_args() == expected


@pytest.mark.parametrize("query", ["?page=0", "?page=-1", "?page=abc", "?page=10001", "?limit=0",
                                   f"?limit={MAX_LIMIT + 1}", "?limit=1e3", "?page=" + "9" * 50, "?page=٣"])
def test_bad_page_args_are_a_400_naming_the_parameter(app, query):
    with app.test_request_context(f"/api/x{query}"), pytest.raises(APIError) as caught:
        page_args()
    assert caught.value.code == 400 and caught.value.field in {"page", "limit"}
