"""Local after-sales: returns and exchanges through the warehouse of the customer's market,
reships of lost or damaged parcels, and claims (issue #23)."""
