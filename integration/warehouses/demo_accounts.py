"""The warehouse emulators' demo accounts, a development aid: ``make run`` starts the WINIT,
Goodcang and ShipBob emulators and hands their endpoints and demo credentials to the app in
``WAREHOUSE_SANDBOX``. The connect form offers those credentials to fill in, an account without an
endpoint of its own reaches its provider's emulator, and the warehouses page links the emulators'
control page. In production all of it is absent: the configuration refuses ``WAREHOUSE_SANDBOX``
there, and every function here answers "none" again, whatever the configuration holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration.config import Config


def _accounts(config: Config) -> Mapping:
    if config.is_production:
        return {}
    return config.warehouse_sandbox.get("accounts") or {}


def demo_account(config: Config, provider: str) -> dict | None:
    """``{"endpoint", "credentials"}`` of the provider's demo account, for the connect form."""
    account = _accounts(config).get(provider)
    return {"endpoint": account["endpoint"], "credentials": dict(account["credentials"])} if account else None


def sandbox_endpoint(config: Config, provider: str) -> str | None:
    """Where an account of ``provider`` without an endpoint of its own is served: its emulator."""
    account = _accounts(config).get(provider)
    return account["endpoint"] if account else None


def control_url(config: Config) -> str | None:
    if config.is_production:
        return None
    return config.warehouse_sandbox.get("control_url") or None
