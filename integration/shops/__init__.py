"""Shops: installation and tokens, settings, the catalog import, privacy requests, merchant alerts, secrets at rest."""
