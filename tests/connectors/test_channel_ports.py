"""The sales-channel, mail and authorization connectors implement their ports (integration/domain/ports.py)."""

from __future__ import annotations

import pytest

from connectors.amazon.auth import LwaCredentials
from connectors.amazon.authorizer import SellerAuthorizer
from connectors.amazon.channel import AmazonChannel
from connectors.email import FileMailer, SmtpMailer
from connectors.shopify.channel import ShopifyChannel
from connectors.shopify.client import ShopifyClient
from connectors.shopify.oauth import ShopifyOAuth
from integration.domain.channels import InventoryChange
from integration.domain.ports import (
    AmazonAuthorizer,
    AmazonSeller,
    Mailer,
    SalesChannel,
    ShopifyAuthorizer,
    ShopifyStore,
)
from tests.amazon_fixtures import DE, FR


def test_shopify_channel_is_a_shopify_store(redis_conn):
    channel = ShopifyChannel(ShopifyClient("acme.myshopify.com", "shpat_token", redis=redis_conn))
    assert isinstance(channel, ShopifyStore) and isinstance(channel, SalesChannel)
    assert not isinstance(channel, AmazonSeller)
    assert channel.name == "shopify" and "shpat_token" not in repr(channel)


def test_amazon_channel_is_an_amazon_seller(amazon_client):
    channel = AmazonChannel(amazon_client)
    assert isinstance(channel, AmazonSeller) and isinstance(channel, SalesChannel)
    assert not isinstance(channel, ShopifyStore)
    assert channel.name == "amazon"


def test_amazon_quantities_refused_for_one_sku_do_not_hold_back_the_others(amazon_emulator, amazon_client):
    changes = [InventoryChange("NS-0001", DE, 17, None), InventoryChange("NOPE-1", DE, 3, None),
               InventoryChange("BAD-QTY", DE, -1, None)]
    result = AmazonChannel(amazon_client).set_quantities(changes, key="test")
    assert result.applied == (changes[0],) and result.unapplied == tuple(changes[1:])
    assert amazon_emulator.state.listing_quantity("NS-0001", DE) == 17


def test_amazon_quantities_go_only_to_the_channels_marketplace(amazon_client):
    with pytest.raises(ValueError, match=FR):
        AmazonChannel(amazon_client).set_quantities([InventoryChange("NS-0001", FR, 1, None)], key="test")


def test_mailers_are_mailers(tmp_path):
    assert isinstance(FileMailer(tmp_path), Mailer)
    assert isinstance(SmtpMailer.from_url("smtp://relay.example:587"), Mailer)


def test_shopify_oauth_is_a_shopify_authorizer():
    oauth = ShopifyOAuth("api-key", "api-secret")
    assert isinstance(oauth, ShopifyAuthorizer) and not isinstance(oauth, AmazonAuthorizer)
    assert "api-secret" not in repr(oauth)


def test_seller_authorizer_is_an_amazon_authorizer():
    authorizer = SellerAuthorizer("amzn1.sp.solution.app", LwaCredentials("client-id", "client-secret"))
    assert isinstance(authorizer, AmazonAuthorizer) and not isinstance(authorizer, ShopifyAuthorizer)
    assert authorizer.region_of(DE) == "eu" and "client-secret" not in repr(authorizer)
