"""Strict readers for environment variables.

django-environ is lenient: `DEBUG=ture` silently becomes False and an unknown database scheme
becomes an unusable engine name. A typo in production should stop start-up with a message that
names the variable, so every value the settings read goes through these helpers.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}
_BROKER_SCHEMES = {"redis", "rediss", "filesystem", "memory"}


class Env:
    """Read typed settings from a mapping (os.environ by default) and fail loudly."""

    def __init__(self, environ_map: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ_map is None else environ_map

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None else value.strip()

    def str(self, name: str, default: str = "") -> str:
        value = self._raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool = False) -> bool:
        value = self._raw(name)
        if not value:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use one of true/false, yes/no, on/off, 1/0."
        )

    def int(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
        return number

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self._raw(name)
        if not value:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: set[str]) -> str:
        value = self.str(name, default)
        if value not in choices:
            allowed = ", ".join(sorted(choices))
            raise ImproperlyConfigured(f"{name}={value!r} is not one of: {allowed}.")
        return value

    def database(self, name: str, default: str) -> dict[str, Any]:
        url = self.str(name, default) or default
        scheme = urlsplit(url).scheme
        if scheme not in _DATABASE_SCHEMES:
            raise ImproperlyConfigured(
                f"{name}={_redact(url)!r} is not a database URL: it must start with "
                "postgres:// or sqlite:///."
            )
        config = environ.Env.db_url_config(url)
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name}={_redact(url)!r} names no database.")
        return config

    def broker_url(self, name: str, default: str) -> str:
        url = self.str(name, default) or default
        scheme = urlsplit(url).scheme
        if scheme not in _BROKER_SCHEMES:
            raise ImproperlyConfigured(
                f"{name}={_redact(url)!r} is not a Redis URL: it must start with redis://."
            )
        return url


def _redact(url: str) -> str:
    """Hide a password in a URL before it goes into an error message."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def read_dotenv(path: Path) -> None:
    """Load KEY=value lines from `path` without overriding the real environment."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)
