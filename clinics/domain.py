"""Errors and the status-transition helper shared by every app's services."""

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction


class DomainError(Exception):
    """A rule of the service refused the request; `code` is stable for API clients."""

    code = "domain_error"
    status_code = 400

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class Conflict(DomainError):
    """The request clashes with the current state of the data (HTTP 409)."""

    code = "conflict"
    status_code = 409


class IllegalTransition(Conflict):
    """A status change that the transition table does not allow."""

    code = "illegal_transition"

    def __init__(self, obj: models.Model, to: str, allowed: set[str]) -> None:
        current = obj.status
        allowed_list = sorted(allowed)
        detail = (
            f"{obj._meta.verbose_name.capitalize()} cannot move from '{current}' to '{to}'. "
            + (
                f"From '{current}' it can move to: {', '.join(allowed_list)}."
                if allowed_list
                else f"'{current}' is final."
            )
        )
        super().__init__(detail, current=current, requested=to, allowed=allowed_list)


def move_status(
    obj: models.Model,
    to: str,
    *,
    table: Mapping[str, set[str]],
    by: Any,
    reason: str,
    changes: Mapping[str, Any] | None = None,
) -> models.Model:
    """Lock the row, check `to` against the transition table, and save with history.

    The row is re-read under `select_for_update` so two staff acting on the same record at
    once are serialised: the second sees the first's status and is refused if the move is no
    longer allowed, instead of silently overwriting it.
    """
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        allowed = table.get(locked.status, set())
        if to not in allowed:
            raise IllegalTransition(locked, to, allowed)
        locked.status = to
        for field, value in (changes or {}).items():
            setattr(locked, field, value)
        if by is not None and getattr(by, "is_authenticated", False):
            locked._history_user = by
        locked._change_reason = reason
        locked.save()
    return locked
