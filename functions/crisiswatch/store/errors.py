class StoreError(Exception):
    """Base of the domain errors the data-access layer raises."""


class IncidentNotFound(StoreError):
    def __init__(self, incident_id: str):
        super().__init__(f"no incident {incident_id!r}")
        self.incident_id = incident_id


class IncidentAlreadyOpen(StoreError):
    """Another writer opened an incident for this watch first."""


class StaleIncident(StoreError):
    """The incident changed since it was read (optimistic locking on its version)."""


class IncidentResolved(StoreError):
    def __init__(self, incident_id: str):
        super().__init__(f"incident {incident_id!r} is resolved")
        self.incident_id = incident_id
