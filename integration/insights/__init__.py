"""Insights: the warehouse as market sensor (issue 22)."""
