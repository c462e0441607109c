"""A Shopify-theme-like storefront for trying the stock status extension locally: product pages
rendered with python-liquid from the emulator's data, and the app proxy, signed as Shopify signs
it. See :mod:`sandbox.storefront.app`."""

from sandbox.storefront.app import Storefront, create_storefront
from sandbox.storefront.catalog import EmulatorCatalog, GraphQLCatalog, StaticCatalog

__all__ = ["EmulatorCatalog", "GraphQLCatalog", "StaticCatalog", "Storefront", "create_storefront"]
