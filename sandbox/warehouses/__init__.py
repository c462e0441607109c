"""Emulators of the warehouse providers' APIs, over one shared warehouse simulation (sim.py)."""
