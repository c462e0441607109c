"""Personal data declarations, read by the compliance service (customers/redact, data_request).

A model that stores anything about a customer declares it, so erasure reaches every table,
including tables added later (a test fails when a model has a personal-looking column that is
not declared):

    __pii__ = ("email", "shipping_address")      # columns erased (set to NULL) on redact
    __customer_match__ = ("customer_external_id", "email")   # how its rows are found
"""

from __future__ import annotations

# Column names that look personal. A model with one of these must list it in __pii__ or in
# __not_pii__ (with a comment why, e.g. a merchant's business address).
PERSONAL_NAMES = ("email", "phone", "name", "address", "first_name", "last_name", "birthday", "ip")
