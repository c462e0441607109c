"""Emulators of the warehouse providers' APIs, over one shared warehouse simulation (sim.py);
``python -m sandbox.warehouses`` runs them with demo accounts (demo.py) and a control page
(control.py)."""
