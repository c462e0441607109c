"""Secrets at rest: encrypted in the table, readable with any configured key, rotatable."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from integration.extensions import db, vault
from integration.models import Shop
from integration.shops.secrets import rotate_all


def raw_token(domain):
    return db.session.execute(
        text("SELECT access_token FROM shops WHERE domain = :d"), {"d": domain}
    ).scalar_one()


def test_round_trip_and_ciphertext_in_table(app):
    db.session.add(Shop(domain="acme.myshopify.com", access_token="shpat_plain", refresh_token="shprt_x"))
    db.session.commit()
    db.session.expire_all()
    shop = db.session.query(Shop).one()
    assert shop.access_token == "shpat_plain"
    stored = raw_token("acme.myshopify.com")
    assert "shpat_plain" not in stored
    assert Fernet(app.config["NEARSTOCK"].encryption_keys[0]).decrypt(stored.encode()) == b"shpat_plain"
    assert "shpat_plain" not in repr(shop)


def test_key_rotation(app):
    old_key = app.config["NEARSTOCK"].encryption_keys[0]
    db.session.add(Shop(domain="acme.myshopify.com", access_token="shpat_plain"))
    db.session.commit()
    before = raw_token("acme.myshopify.com")

    new_key = Fernet.generate_key().decode()
    vault.configure([new_key, old_key])  # deploy with the new key first
    db.session.expire_all()
    assert db.session.query(Shop).one().access_token == "shpat_plain"  # old rows still read

    assert rotate_all() == 1
    after = raw_token("acme.myshopify.com")
    assert after != before
    vault.configure([new_key])  # old key retired
    db.session.expire_all()
    assert db.session.query(Shop).one().access_token == "shpat_plain"

    vault.configure([Fernet.generate_key().decode()])  # a key that never encrypted it
    db.session.expire_all()
    with pytest.raises(InvalidToken):
        _ = db.session.query(Shop).one().access_token
    vault.configure([new_key])
