"""The authentication backend: Django's, loading each user with their staff record.

Every request that touches records asks which organisation the user belongs to; fetching the
staff row with the user saves that query on every request.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache


class StaffModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("staff").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The user's permissions, from the cache when they have not changed since.

        Every API call checks a permission, which costs two joined queries; the answer only
        changes when a user's groups, a group's permissions or the user row change, and each
        of those bumps the version (see `permissions_changed`). With Redis the
        cache is shared by every process; the local-memory cache of a development machine
        keeps an answer at most PERMISSION_CACHE_SECONDS.
        """
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        # The cached set records the version it was computed at, so the version and the set
        # come back in one round trip; a set computed before a change is never used after it.
        key = f"outreach:perms:{user_obj.pk}"
        found = cache.get_many([_VERSION_KEY, key])
        version = found.get(_VERSION_KEY, 0)
        cached = found.get(key)
        if cached is not None and cached[0] == version:
            permissions = cached[1]
        else:
            permissions = super().get_all_permissions(user_obj)
            cache.set(key, (version, permissions), PERMISSION_CACHE_SECONDS)
        user_obj._perm_cache = set(permissions)
        return user_obj._perm_cache


PERMISSION_CACHE_SECONDS = 60
_VERSION_KEY = "outreach:perms:version"


def permissions_changed(**kwargs: Any) -> None:
    """Make every cached permission set stale (a new version means new cache keys)."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, None)
