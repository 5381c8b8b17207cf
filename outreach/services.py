"""Every write to sessions and bookings goes through a function here."""

import logging
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinics.domain import move_status
from outreach.models import Booking, OutreachSession, SessionSeries, StaffAssignment

logger = logging.getLogger(__name__)


def london() -> ZoneInfo:
    return ZoneInfo(settings.OUTREACH_TIME_ZONE)


def local_datetime(day: date, wall_clock: time) -> datetime:
    """Return the aware instant at which London clocks show `wall_clock` on `day`.

    Building the datetime from the local date and time (rather than adding 7 days to the last
    instant) is what keeps a 10:00 clinic at 10:00 on both sides of a clock change. A time that
    does not exist (01:30 on the last Sunday of March) is moved forward by the gap, as clocks do.
    """
    zone = london()
    candidate = datetime.combine(day, wall_clock, tzinfo=zone)
    round_trip = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return round_trip
    return candidate


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


def _unit_is_free(series: SessionSeries, starts_at: datetime, ends_at: datetime) -> bool:
    if series.mobile_unit_id is None:
        return True
    return not (
        OutreachSession.objects.live()
        .filter(mobile_unit_id=series.mobile_unit_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exists()
    )


def _staff_free(staff_ids: list[int], starts_at: datetime, ends_at: datetime) -> list[int]:
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
    horizon = today + timedelta(weeks=settings.OUTREACH_SERIES_HORIZON_WEEKS)
    existing = set(series.sessions.values_list("occurrence_date", flat=True))
    services = list(series.services.all())
    staff_ids = list(series.staff.values_list("pk", flat=True))
    created = []
    for day in series_dates(series, until=horizon):
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
            name=series.name,
            venue_id=series.venue_id,
            mobile_unit_id=series.mobile_unit_id,
            starts_at=starts_at,
            ends_at=ends_at,
            booking_mode=series.booking_mode,
            slot_minutes=series.slot_minutes,
            lanes=series.lanes,
            walk_in_share_percent=series.walk_in_share_percent,
            audience=series.audience,
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


def move_session(
    session: OutreachSession, to: str, *, by: Any, reason: str, **changes: Any
) -> OutreachSession:
    """Change a session's status by the transition table, keeping its staff rota in step."""
    with transaction.atomic():
        moved = move_status(
            session, to, table=OutreachSession.NEXT_STATUSES, by=by, reason=reason, changes=changes
        )
        if to == OutreachSession.Status.CANCELLED:
            # A cancelled session no longer holds its staff: they may be planned elsewhere.
            StaffAssignment.objects.filter(session=moved).update(is_live=False)
    return moved


def move_booking(booking: Booking, to: str, *, by: Any, reason: str, **changes: Any) -> Booking:
    """Change a booking's status by the transition table, with history."""
    if to in (Booking.Status.ARRIVED, Booking.Status.FULFILLED) and "arrived_at" not in changes:
        changes["arrived_at"] = booking.arrived_at or timezone.now()
    return move_status(
        booking, to, table=Booking.NEXT_STATUSES, by=by, reason=reason, changes=changes
    )
