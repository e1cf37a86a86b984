"""Secrets Manager, through Powertools' cache: a rotated value is read again after `max_age` seconds."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters


class SecretsManagerReader:
    def __init__(self, max_age_seconds: int):
        self._max_age = max_age_seconds

    def get(self, name: str) -> str:
        value = parameters.get_secret(name, max_age=self._max_age)
        return value.decode() if isinstance(value, bytes) else str(value)
