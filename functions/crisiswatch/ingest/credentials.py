"""Platform credentials: each platform's request headers (a cookie, a provider's API key), kept as a
JSON object in a secret. Never logged: errors say where, never what."""

from __future__ import annotations

import json
from collections.abc import Mapping

from crisiswatch.ports import SecretReader


class CredentialsError(Exception):
    pass


class PlatformCredentials:
    def __init__(self, secrets: SecretReader, secret_names: Mapping[str, str]):
        self._secrets = secrets
        self._names = dict(secret_names)

    def headers(self, platform: str) -> dict[str, str]:
        """The platform's request headers; {} when it needs none."""
        name = self._names.get(platform)
        if name is None:
            return {}
        try:
            value = json.loads(self._secrets.get(name))
        except ValueError:
            value = None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise CredentialsError(
                f"secret {name!r} for {platform} must be a JSON object of header name -> value"
            )
        return value
