"""Customer notices and merchant alerts: the outbox, rendering in the customer's language, sending once."""
