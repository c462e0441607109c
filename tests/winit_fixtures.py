"""Fixtures of the winit emulator."""
