"""Session series: a recurrence that keeps its sessions created a horizon ahead."""

import logging
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinics.domain import Conflict, DomainError
from clinics.models import ServiceType, StaffMember
from outreach.models import OutreachSession, SessionSeries, StaffAssignment, validate_weekdays
from outreach.services.common import local_datetime
from outreach.services.sessions import check_clashes, update_session

logger = logging.getLogger(__name__)

# Fields copied from a series to each of its sessions.
SESSION_FIELDS = (
    "name",
    "venue_id",
    "mobile_unit_id",
    "booking_mode",
    "slot_minutes",
    "lanes",
    "walk_in_share_percent",
    "audience",
)
SERIES_EDITABLE = {
    "name",
    "venue",
    "mobile_unit",
    "start_time",
    "end_time",
    "booking_mode",
    "slot_minutes",
    "lanes",
    "walk_in_share_percent",
    "audience",
}


class Scope:
    THIS = "this"
    FOLLOWING = "following"
    ALL = "all"
    CHOICES = (THIS, FOLLOWING, ALL)


def series_dates(series: SessionSeries, *, until: date) -> Iterator[date]:
    """Yield the series' occurrence dates from its start up to `until` (inclusive)."""
    last = min(until, series.until_date) if series.until_date else until
    weekdays = sorted(set(series.weekdays))
    week_start = series.start_date - timedelta(days=series.start_date.weekday())
    produced = 0
    while week_start <= last:
        for weekday in weekdays:
            day = week_start + timedelta(days=weekday)
            if day < series.start_date or day > last:
                continue
            if series.occurrence_limit is not None and produced >= series.occurrence_limit:
                return
            produced += 1
            yield day
        week_start += timedelta(weeks=series.interval_weeks)


def _horizon(today: date) -> date:
    return today + timedelta(weeks=settings.OUTREACH_SERIES_HORIZON_WEEKS)


def _unit_is_free(series: SessionSeries, starts_at: Any, ends_at: Any) -> bool:
    if series.mobile_unit_id is None:
        return True
    return not (
        OutreachSession.objects.live()
        .filter(mobile_unit_id=series.mobile_unit_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exists()
    )


def _staff_free(staff_ids: list[int], starts_at: Any, ends_at: Any) -> list[int]:
    busy = set(
        StaffAssignment.objects.filter(
            staff_id__in=staff_ids, is_live=True, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).values_list("staff_id", flat=True)
    )
    return [staff_id for staff_id in staff_ids if staff_id not in busy]


@transaction.atomic
def fill_series_horizon(
    series: SessionSeries, *, today: date | None = None, by: Any = None
) -> list[OutreachSession]:
    """Create the series' missing sessions from today up to its horizon; return the new ones.

    Running it again creates nothing new (one session per series and date is a unique
    constraint). An occurrence whose bus is already out elsewhere is skipped and logged for a
    coordinator rather than failing the whole series.
    """
    series = SessionSeries.objects.select_for_update().get(pk=series.pk)
    today = today or timezone.localdate()
    existing = set(series.sessions.values_list("occurrence_date", flat=True))
    services = list(series.services.all())
    staff_ids = list(series.staff.values_list("pk", flat=True))
    created = []
    for day in series_dates(series, until=_horizon(today)):
        if day < today or day in existing:
            continue
        starts_at = local_datetime(day, series.start_time)
        ends_at = local_datetime(day, series.end_time)
        if not _unit_is_free(series, starts_at, ends_at):
            logger.warning(
                "series %s: occurrence %s skipped, mobile unit %s already booked",
                series.pk,
                day.isoformat(),
                series.mobile_unit_id,
            )
            continue
        session = OutreachSession(
            organisation_id=series.organisation_id,
            series=series,
            occurrence_date=day,
            starts_at=starts_at,
            ends_at=ends_at,
            **{field: getattr(series, field) for field in SESSION_FIELDS},
        )
        if by is not None:
            session._history_user = by
        session._change_reason = "Created from the series"
        session.save()
        session.services.set(services)
        StaffAssignment.objects.bulk_create(
            StaffAssignment(
                session=session, staff_id=staff_id, starts_at=starts_at, ends_at=ends_at
            )
            for staff_id in _staff_free(staff_ids, starts_at, ends_at)
        )
        created.append(session)
    return created


def fill_series_horizons(*, today: date | None = None) -> int:
    """Fill the horizon of every active series; return how many sessions were created."""
    total = 0
    for series in SessionSeries.objects.filter(is_active=True).only("pk"):
        total += len(fill_series_horizon(series, today=today))
    return total


def _check_series_clashes(series: SessionSeries, staff_ids: list[int], today: date) -> None:
    for day in series_dates(series, until=_horizon(today)):
        if day < today:
            continue
        check_clashes(
            unit_id=series.mobile_unit_id,
            staff_ids=staff_ids,
            starts_at=local_datetime(day, series.start_time),
            ends_at=local_datetime(day, series.end_time),
            exclude=None,
        )


def _validate_series(series: SessionSeries) -> None:
    errors: dict[str, str] = {}
    if series.end_time <= series.start_time:
        errors["end_time"] = "The session must end after it starts."
    if series.until_date and series.until_date < series.start_date:
        errors["until_date"] = "Must be on or after the start date."
    if series.until_date and series.occurrence_limit:
        errors["occurrence_limit"] = "Give an end date or a number of sessions, not both."
    try:
        validate_weekdays(series.weekdays)
    except ValidationError as error:
        errors["weekdays"] = error.messages[0]
    if series.mobile_unit_id and series.lanes > series.mobile_unit.capacity:
        errors["lanes"] = (
            f"{series.mobile_unit.name} can see {series.mobile_unit.capacity} people at once."
        )
    if errors:
        raise DomainError("Check the series details.", code="invalid", fields=errors)


@transaction.atomic
def create_series(
    *,
    organisation: Any,
    by: Any,
    services: Iterable[ServiceType],
    staff: Iterable[StaffMember] = (),
    today: date | None = None,
    **fields: Any,
) -> SessionSeries:
    """Plan a recurring clinic and create its sessions; refuse it if any occurrence clashes."""
    today = today or timezone.localdate()
    series = SessionSeries(organisation=organisation, **fields)
    _validate_series(series)
    staff = list(staff)
    series.save()
    series.services.set(list(services))
    series.staff.set(staff)
    _check_series_clashes(series, [member.pk for member in staff], today)
    fill_series_horizon(series, today=today, by=by)
    return series


def _future_sessions(series: SessionSeries, from_day: date) -> Any:
    return series.sessions.filter(
        occurrence_date__gte=from_day,
        status__in=[OutreachSession.Status.PLANNED, OutreachSession.Status.CONFIRMED],
    )


@transaction.atomic
def update_series(
    session: OutreachSession,
    *,
    scope: str,
    by: Any,
    reason: str,
    today: date | None = None,
    **changes: Any,
) -> SessionSeries | OutreachSession:
    """Change one occurrence, this and the following ones, or the whole series.

    `this` edits the session alone and detaches it, so later series edits leave it be.
    `following` ends the series the day before and starts a new one from this occurrence.
    `all` edits the series and every future occurrence that was not edited on its own.
    """
    if scope not in Scope.CHOICES:
        raise DomainError(
            f"Scope must be one of: {', '.join(Scope.CHOICES)}.",
            code="invalid",
            fields={"scope": "Unknown scope."},
        )
    if scope == Scope.THIS or session.series_id is None:
        session_changes = _session_changes(session, changes)
        return update_session(session, by=by, reason=reason, **session_changes)
    unknown = set(changes) - SERIES_EDITABLE
    if unknown:
        raise DomainError(f"These cannot be changed on a series: {', '.join(sorted(unknown))}.")
    today = today or timezone.localdate()
    series = SessionSeries.objects.select_for_update().get(pk=session.series_id)
    if scope == Scope.FOLLOWING and session.occurrence_date > series.start_date:
        series = _split_series(series, session.occurrence_date)
    for field, value in changes.items():
        setattr(series, field, value)
    _validate_series(series)
    series.save()
    start = max(today, session.occurrence_date if scope == Scope.FOLLOWING else series.start_date)
    for occurrence in _future_sessions(series, start).filter(detached=False):
        update_session(
            occurrence,
            by=by,
            reason=reason,
            detach=False,
            **_session_changes(occurrence, changes),
        )
    return series


def _session_changes(session: OutreachSession, changes: dict[str, Any]) -> dict[str, Any]:
    """Series fields become session fields: wall-clock times become that day's instants."""
    result = {k: v for k, v in changes.items() if k not in ("start_time", "end_time")}
    day = session.occurrence_date or timezone.localdate(session.starts_at)
    if "start_time" in changes:
        result["starts_at"] = local_datetime(day, changes["start_time"])
    if "end_time" in changes:
        result["ends_at"] = local_datetime(day, changes["end_time"])
    return result


def _split_series(series: SessionSeries, from_day: date) -> SessionSeries:
    """End `series` the day before `from_day` and continue it as a new series from then."""
    if series.occurrence_limit is not None:
        raise Conflict(
            "A series limited to a number of sessions cannot be split; edit the whole series.",
            code="series_split_unsupported",
        )
    services = list(series.services.all())
    staff = list(series.staff.all())
    follower = SessionSeries.objects.get(pk=series.pk)
    follower.pk = None
    follower.start_date = from_day
    follower.save()
    follower.services.set(services)
    follower.staff.set(staff)
    series.until_date = from_day - timedelta(days=1)
    series.save(update_fields=["until_date"])
    for moved in series.sessions.filter(occurrence_date__gte=from_day):
        moved.series = follower
        moved._change_reason = "Series split: moved to the continuing series"
        moved.save()
    return follower
