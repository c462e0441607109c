"""Warehouse (3PL) providers behind :class:`integration.domain.ports.WarehouseProvider`."""
