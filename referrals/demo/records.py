"""The demo's run state and the find-or-create helpers that make a second run a no-op.

A row is looked up by its natural key and written only when it is missing or one of its
fields differs from the catalogue, so running the loader again saves nothing: no bumped
`updated_at`, no new history row.
"""

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, TypeVar

from django.db import models
from django.db.models import Subquery

from clinics.models import MobileUnit, Organisation, Patient, ServiceType, StaffMember, Venue
from outreach.models import Booking, MessageTemplate, OutreachSession, SessionSeries
from outreach.services import local_datetime
from referrals.models import Destination

M = TypeVar("M", bound=models.Model)

# How far back the demo's history goes.
HISTORY_DAYS = 28


@dataclass
class PlannedBooking:
    """One booking the demo wants, worked out before anything is written."""

    key: str
    series_key: str
    session: OutreachSession
    patient: Patient
    service: ServiceType
    lane: int
    starts_at: datetime
    ends_at: datetime
    source: str
    status: str
    booked_at: datetime
    booked_by: Any
    arrived_at: datetime | None = None
    settled_at: datetime | None = None  # when it reached its final status
    cancelled_by: str = ""
    reason: str = ""
    outcome: str = ""
    result: str = ""
    follow_up_date: date | None = None
    outcome_notes: str = ""
    clinician: Any = None
    cancelled_with_session: bool = False


@dataclass
class Demo:
    """Everything one run has found or made, shared by the builders."""

    today: date
    now: datetime
    rng: random.Random
    orgs: dict[str, Organisation] = field(default_factory=dict)
    services: dict[str, ServiceType] = field(default_factory=dict)
    unit: MobileUnit | None = None
    venues: dict[str, Venue] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    staff: dict[str, StaffMember] = field(default_factory=dict)
    cohorts: dict[str, list[Patient]] = field(default_factory=dict)
    series: dict[str, SessionSeries] = field(default_factory=dict)
    sessions: list[OutreachSession] = field(default_factory=list)
    cancelled_session: OutreachSession | None = None
    destinations: dict[str, Destination] = field(default_factory=dict)
    templates: dict[tuple[str, str, bool], MessageTemplate] = field(default_factory=dict)
    plan: list[PlannedBooking] = field(default_factory=list)
    bookings: dict[str, Booking] = field(default_factory=dict)

    def series_key(self, session: OutreachSession) -> str:
        """The catalogue key of the series a demo session belongs to."""
        for key, series in self.series.items():
            if series.pk == session.series_id:
                return key
        raise KeyError(session.series_id)

    @property
    def window_start(self) -> date:
        return self.today - timedelta(days=HISTORY_DAYS)

    def at(self, day: date, wall_clock: time) -> datetime:
        """The instant London clocks show `wall_clock` on `day`, never later than now."""
        return self.past(local_datetime(day, wall_clock))

    def past(self, moment: datetime) -> datetime:
        """`moment`, or now if it has not happened yet: history cannot be in the future."""
        return min(moment, self.now)


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    model_field = obj._meta.get_field(name)
    if model_field.many_to_one or model_field.one_to_one:
        wanted = value.pk if isinstance(value, models.Model) else value
        return getattr(obj, model_field.attname) != wanted
    return getattr(obj, name) != value


def has_history(model: type[models.Model]) -> bool:
    # Asking the model itself (`hasattr(model, "history")`) builds a manager class each time,
    # which was a good part of the loader's run time; simple-history marks _meta instead.
    return hasattr(model._meta, "simple_history_manager_attribute")


@cache
def _history_model(model: type[models.Model]) -> type[models.Model]:
    return model.history.model  # type: ignore[attr-defined]


def save_new(obj: M, *, by: Any = None, reason: str = "", when: datetime | None = None) -> M:
    """Insert `obj` with its history user and reason, then date it (and its history) `when`."""
    if has_history(type(obj)):
        if by is not None:
            obj._history_user = by
        obj._change_reason = reason or "Demo data"
        if when is not None:
            obj._history_date = when
    obj.save()
    if when is not None:
        backdate(obj, when, history=False)
    return obj


def backdate(obj: models.Model, when: datetime, *, history: bool = True) -> None:
    """Move an insert's timestamps to when it happened in the story the demo tells."""
    names = {f.name for f in obj._meta.concrete_fields}
    stamps = {name: when for name in ("created_at", "recorded_at") if name in names}
    if stamps:
        # auto_now_add overwrites whatever is given on insert, so the date is set after.
        type(obj)._default_manager.filter(pk=obj.pk).update(**stamps)
        for name, value in stamps.items():
            setattr(obj, name, value)
    if history and has_history(type(obj)):
        stamp_latest_history(obj, when)


def stamp_latest_history(obj: models.Model, when: datetime) -> None:
    """Date the newest history row of `obj`: the services stamp it with the clock."""
    history = _history_model(type(obj))
    latest = history.objects.filter(id=obj.pk).order_by("-history_id").values("history_id")[:1]
    history.objects.filter(history_id=Subquery(latest)).update(history_date=when)


def upsert(
    model: type[M],
    lookup: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    *,
    create_only: Mapping[str, Any] | None = None,
    by: Any = None,
    reason: str = "",
    when: datetime | None = None,
) -> tuple[M, bool]:
    """Find the row by its natural key; create it, or save it only if a value differs."""
    values = dict(values or {})
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(create_only or {}))
        return save_new(obj, by=by, reason=reason, when=when), True
    changed = [name for name, value in values.items() if _differs(obj, name, value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if has_history(model):
            if by is not None:
                obj._history_user = by
            obj._change_reason = "Demo data brought up to date"
        obj.save()
    return obj, False


def set_related(obj: models.Model, name: str, targets: Iterable[models.Model]) -> None:
    """Set a many-to-many field only when its members differ."""
    manager = getattr(obj, name)
    wanted = list(targets)
    if set(manager.values_list("pk", flat=True)) != {target.pk for target in wanted}:
        manager.set(wanted)


def move(
    mover: Callable[..., M],
    obj: M,
    to: str,
    *,
    by: Any,
    reason: str,
    when: datetime,
    **changes: Any,
) -> M:
    """Move `obj` through its service and date the history row to when it happened."""
    moved = mover(obj, to, by=by, reason=reason, **changes)
    stamp_latest_history(moved, when)
    return moved


def weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def render(body: str, context: Mapping[str, str]) -> str:
    """Fill `{{ name }}` placeholders; the real sender uses the same convention."""
    for name, value in context.items():
        body = body.replace("{{ " + name + " }}", value)
    return body
