"""What the warehouse connect form offers a shop: the providers in the order a merchant meets
them (3PLs first; FBA last, and only through a connected Amazon account), the credential keys of
each (required ones first; each provider's module docstring is the reference, the provider itself
the validation), and, in development, the emulators' demo accounts to fill in."""

from __future__ import annotations

from integration.config import Config
from integration.warehouses import fba_link
from integration.warehouses.credentials import PROVIDER_LABELS
from integration.warehouses.demo_accounts import control_url, demo_account
from integration.warehouses.providers import provider_names

CREDENTIAL_HINTS = {
    "winit": ("app_key", "token", "platform", "inbound_product_code", "return_product_code", "client_id",
              "client_secret"),
    "goodcang": ("app_key", "app_token", "product_link", "category_id", "material"),
    "shipbob": ("token", "channel_id", "webhook_secret"),
    "fba": (fba_link.LINK_KEY,),
}


def providers(config: Config, shop_id: int) -> list[dict]:
    known = [name for name in PROVIDER_LABELS if name in provider_names()]
    out = []
    for name in known + sorted(set(provider_names()) - set(known)):
        entry = {"name": name, "label": PROVIDER_LABELS.get(name, name),
                 "credential_keys": list(CREDENTIAL_HINTS.get(name, ()))}
        if name == fba_link.PROVIDER:
            entry["amazon_accounts"] = fba_link.linkable_accounts(shop_id)
        demo = demo_account(config, name)
        if demo is not None:
            entry["demo"] = demo
        out.append(entry)
    return out


def sandbox(config: Config) -> dict | None:
    """The warehouse emulators' control page, in development when they run."""
    url = control_url(config)
    return {"control_url": url} if url else None
