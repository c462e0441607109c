"""RQ jobs. Each job takes ids (never ORM objects), re-reads state, and is safe to run twice."""
