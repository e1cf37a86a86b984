"""Data access: the only place that speaks DynamoDB. Domain code sees domain exceptions."""

from crisiswatch.store.errors import IncidentAlreadyOpen, IncidentNotFound, IncidentResolved, StaleIncident
from crisiswatch.store.incidents import IncidentStore
from crisiswatch.store.posts import PostStore

__all__ = [
    "IncidentAlreadyOpen",
    "IncidentNotFound",
    "IncidentResolved",
    "IncidentStore",
    "PostStore",
    "StaleIncident",
]
