"""What the warehouse connect form offers a shop: the providers in the order a merchant meets
them (3PLs first; FBA last, and only through a connected Amazon account), each provider's own
labelled credential fields with help on where to find them (:mod:`credential_fields`; the
provider itself is the final validation), and, in development, the emulators' demo accounts to
fill in."""

from __future__ import annotations

from integration.config import Config
from integration.warehouses import fba_link
from integration.warehouses.credential_fields import fields_for
from integration.warehouses.credentials import PROVIDER_LABELS
from integration.warehouses.demo_accounts import control_url, demo_account
from integration.warehouses.providers import provider_names


def providers(config: Config, shop_id: int) -> list[dict]:
    known = [name for name in PROVIDER_LABELS if name in provider_names()]
    out = []
    for name in known + sorted(set(provider_names()) - set(known)):
        fields = [f.as_json() for f in fields_for(name)]
        entry = {"name": name, "label": PROVIDER_LABELS.get(name, name), "fields": fields,
                 "credential_keys": [f["name"] for f in fields],
                 "endpoint": name != fba_link.PROVIDER}  # FBA uses the linked Amazon account's endpoint
        if name == fba_link.PROVIDER:
            accounts = fba_link.linkable_accounts(shop_id)
            entry["amazon_accounts"] = accounts
            for f in fields:  # the one field, a choice among the shop's connected Amazon accounts
                f["options"] = [{"value": str(a["id"]), "label": f"{a['name']} ({', '.join(a['marketplaces'])})"}
                                for a in accounts]
        demo = demo_account(config, name)
        if demo is not None:
            entry["demo"] = demo
        out.append(entry)
    return out


def sandbox(config: Config) -> dict | None:
    """The warehouse emulators' control page, in development when they run."""
    url = control_url(config)
    return {"control_url": url} if url else None
