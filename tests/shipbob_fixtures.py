"""Fixtures of the shipbob emulator."""
