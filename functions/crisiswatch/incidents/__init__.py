"""Incidents: posts of one watch grouped in time, with an explainable alert level."""
