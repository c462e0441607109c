"""Fixtures of the goodcang emulator."""
