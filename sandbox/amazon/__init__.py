"""Emulator of the Amazon Selling Partner API (LWA, Orders, Listings, Feeds, FBA Inventory, MCF)."""

from .emulator import AmazonEmulator, Exchange

__all__ = ["AmazonEmulator", "Exchange"]
