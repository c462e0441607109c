"""Insights (issue #22): the warehouse as a market sensor.

* :mod:`.demand`: daily demand per SKU x warehouse, with censored (stock-out) and promotion days;
* :mod:`.planning_input`: promotions and lead times the merchant sets (validated);
* :mod:`.dirty`: which series changed since they were computed;
* :mod:`.compute`: forecasts, cover and restock suggestions, per shop, in batches;
* :mod:`.inbound`, :mod:`.inbound_tracking`, :mod:`.inbound_levels`: approved suggestions as
  inbound shipments at the warehouse, followed until received, in the ledger's inbound meanwhile.
"""
