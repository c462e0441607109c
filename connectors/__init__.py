"""Adapters to the outside world: Shopify, Amazon, warehouses, email.

Connectors translate vendor payloads into domain dataclasses and vendor failures into the error
classes in :mod:`connectors.errors`; nothing vendor-shaped leaves this package.
"""
