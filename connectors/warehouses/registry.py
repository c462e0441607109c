"""Provider registry: ``build("winit", credentials, redis=..., account_key=...)``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from connectors.warehouses.base import BaseProvider

# name -> module holding the provider class (imported on first use).
MODULES = {
    "winit": "connectors.warehouses.winit",
    "goodcang": "connectors.warehouses.goodcang",
    "shipbob": "connectors.warehouses.shipbob",
    "fba": "connectors.warehouses.fba",
}
_classes: dict[str, type[BaseProvider]] = {}


def register(cls: type[BaseProvider]) -> type[BaseProvider]:
    _classes[cls.name] = cls
    return cls


def provider_class(name: str) -> type[BaseProvider]:
    if name not in _classes:
        if name not in MODULES:
            raise KeyError(f"unknown warehouse provider {name!r}")
        importlib.import_module(MODULES[name])
    return _classes[name]


def build(name: str, credentials: Mapping[str, str], **kwargs) -> BaseProvider:
    return provider_class(name)(credentials, **kwargs)


def names() -> list[str]:
    return sorted(MODULES)
