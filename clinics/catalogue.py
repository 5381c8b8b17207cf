"""The service catalogue (the active service types), cached: every booking and search names one.

The catalogue is a few dozen rows that change when an administrator edits one, while every
booking and slot search reads one of them. Each change bumps a version; the cached copy
records the version it was read at, so a copy read before a change is never used after it,
and the version and the copy come back from the cache in one round trip.
"""

from typing import Any

from django.conf import settings
from django.core.cache import cache

from clinics.models import ServiceType

CATALOGUE_SECONDS = 300
# Named by the database too: a Redis shared by two databases (a test run and a benchmark, or
# two sites) must not answer one with the other's ids.
_KEY = "outreach:service-catalogue:{database}"
_VERSION_KEY = "outreach:service-catalogue:version:{database}"


def _keys() -> tuple[str, str]:
    database = settings.DATABASES["default"]["NAME"]
    return _VERSION_KEY.format(database=database), _KEY.format(database=database)


def active_services() -> dict[int, ServiceType]:
    """The active service types by id."""
    version_key, key = _keys()
    found = cache.get_many([version_key, key])
    version = found.get(version_key, 0)
    cached = found.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    # Read after the version: a change made meanwhile bumps it past what is stored here.
    services = {service.pk: service for service in ServiceType.objects.filter(is_active=True)}
    cache.set(key, (version, services), CATALOGUE_SECONDS)
    return services


def active_service(pk: Any) -> ServiceType | None:
    return active_services().get(pk)


def catalogue_changed(**kwargs: Any) -> None:
    """Make the cached catalogue stale (connected to every save and delete of a service type)."""
    version_key, _ = _keys()
    try:
        cache.incr(version_key)
    except ValueError:
        cache.set(version_key, 1, None)
