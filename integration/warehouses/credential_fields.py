"""Each provider's credential fields, as the connect form shows them and the connect endpoint checks
them: a label, where in the provider's own portal to find the value, whether it is required, and
its kind (text, password, url, select). The connector modules' docstrings are the reference for the
keys (connectors/warehouses/winit.py, goodcang.py, shipbob.py, fba.py); the provider itself stays
the final judge (``credentials.list_sites`` calls it before anything is stored).

A provider without fields here (a connector added later, the tests' fake one) gets the generic
checks only. Labels and help are English msgids: the warehouses page's strings translate them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from integration.warehouses import fba_link
from integration.warehouses.setup_validation import InvalidError


@dataclass(frozen=True)
class CredentialField:
    name: str
    label: str
    type: str = "text"
    required: bool = False
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of a select
    pattern: str | None = None  # a value must match it entirely
    pattern_message: str = ""
    max_length: int = 255

    def as_json(self) -> dict:
        return {"name": self.name, "label": self.label, "type": self.type, "required": self.required,
                "help": self.help, "max_length": self.max_length,
                "options": [{"value": v, "label": lbl} for v, lbl in self.options]}



FIELDS: dict[str, tuple[CredentialField, ...]] = {
    "winit": (
        CredentialField("app_key", "Login e-mail (app key)", required=True, max_length=128,
                        help="The e-mail you log in to the WINIT seller portal (万邑联) with; WINIT opens the API "
                             "for this login under Account > API authorisation."),
        CredentialField("token", "API token", "password", required=True, max_length=128,
                        help="WINIT seller portal > Account > API authorisation: the token shown after the API "
                             "is opened. It signs every request and is never sent."),
        CredentialField("platform", "Platform code", max_length=64,
                        help="The app code WINIT gave your ERP or integrator. Leave empty when you use your own."),
        CredentialField("inbound_product_code", "Inbound service code", max_length=64,
                        help="The WINIT head-haul product for inbound shipments (ASNs), from your WINIT "
                             "account manager. Needed only to send inbound shipments."),
        CredentialField("return_product_code", "Return service code", max_length=64,
                        help="The WINIT return service code for returns (RMAs); optional."),
        CredentialField("client_id", "Developer app ID", max_length=128,
                        help="Optional: the app ID of your WINIT developer console app (developer.winit.com.cn)."),
        CredentialField("client_secret", "Developer app secret", "password", max_length=128,
                        help="Optional: the secret of that developer console app; give it together with the app ID."),
        CredentialField("language", "Answer language", "select",
                        options=(("zh_CN", "Chinese"), ("en_US", "English")),
                        help="The language WINIT writes its messages in."),
    ),
    "goodcang": (
        CredentialField("app_key", "App Key", required=True, max_length=128,
                        help="Goodcang OMS > 我的 (My account) > 开发者信息 (Developer information): App Key."),
        CredentialField("app_token", "App Token", "password", required=True, max_length=128,
                        help="Same page in the Goodcang OMS: App Token."),
        CredentialField("product_link", "Product page link", "url", max_length=500,
                        help="Optional: the link Goodcang records for each new SKU; {sku} is replaced by the SKU, "
                             "e.g. https://your-shop.com/products/{sku}."),
        CredentialField("category_id", "Category ID", max_length=16, pattern=r"[0-9]+",
                        pattern_message="must be Goodcang's numeric level-2 category id",
                        help="Optional: Goodcang's level-2 category id for new SKUs (see the category list in the "
                             "Goodcang OMS)."),
        CredentialField("material", "Declared material", max_length=64,
                        help="Optional: the material declared for new SKUs, e.g. cotton."),
    ),
    "shipbob": (
        CredentialField("token", "Personal Access Token", "password", required=True, max_length=4096,
                        help="ShipBob dashboard > Integrations > API Tokens > Generate New Token."),
        CredentialField("channel_id", "Channel ID", required=True, max_length=18, pattern=r"[0-9]+",
                        pattern_message="must be the numeric channel id ShipBob lists for your token",
                        help="The numeric id of the channel your token may write to: ShipBob's API lists it "
                             "(GET /channel, the channel with _write scopes)."),
        CredentialField("webhook_secret", "Webhook signing secret", "password", max_length=256,
                        pattern=r"whsec_[A-Za-z0-9+/=_-]+", pattern_message="starts with whsec_",
                        help="The whsec_… secret ShipBob returned for your webhook subscription to Nearstock; "
                             "needed to accept ShipBob's shipment updates."),
        CredentialField("api_version", "API version", "select", options=(("2026-07", "2026-07"),),
                        help="The dated ShipBob API version; leave the default."),
    ),
    fba_link.PROVIDER: (
        CredentialField(fba_link.LINK_KEY, "Amazon account", "select", required=True, max_length=18,
                        help="FBA uses the authorization of an Amazon account you connected to Nearstock; "
                             "disconnecting that account stops FBA too."),
    ),
}


def fields_for(provider: str) -> tuple[CredentialField, ...]:
    return FIELDS.get(provider, ())


def check_values(provider: str, given: Mapping[str, str]) -> None:
    """Each given value against the provider's own fields (after the generic checks made it a dict
    of trimmed strings): an unknown key, a select outside its options, a malformed URL or id. The
    error names the field, ``credentials.<name>``, and says what the provider calls it."""
    specs = {f.name: f for f in fields_for(provider)}
    if not specs:
        return
    for key, value in given.items():
        spec = specs.get(key)
        if spec is None:
            raise InvalidError(f"credentials.{key[:64]}", f"is not a credential of this provider; expected "
                                                          f"{', '.join(specs)}", code="unknown_credential")
        _check_value(spec, value)


def check_required(provider: str, creds: Mapping[str, str]) -> None:
    """Every required field is there (on connect, and after an update merged its changes)."""
    for spec in fields_for(provider):
        if spec.required and not creds.get(spec.name):
            raise InvalidError(f"credentials.{spec.name}", f"{spec.label} is required", code="credential_required")


def _check_value(spec: CredentialField, value: str) -> None:
    where = f"credentials.{spec.name}"
    if len(value) > spec.max_length:
        raise InvalidError(where, f"{spec.label} must be at most {spec.max_length} characters")
    if spec.type == "select" and spec.options and value not in {v for v, _ in spec.options}:
        raise InvalidError(where, f"{spec.label} must be one of {', '.join(v for v, _ in spec.options)}")
    if spec.type == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidError(where, f"{spec.label} must be an http(s) link")
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        raise InvalidError(where, f"{spec.label} {spec.pattern_message}")
