"""Session series, their past four weeks of sessions, and each session's status."""

from datetime import date, datetime, time, timedelta

from django.conf import settings

from outreach.models import OutreachSession, SessionSeries, StaffAssignment
from outreach.services import (
    cancel_session,
    fill_series_horizon,
    local_datetime,
    move_session,
    series_dates,
)
from referrals.demo.programmes import SERIES, SERIES_BY_KEY, SeriesSpec
from referrals.demo.records import Demo, backdate, move, save_new, set_related, upsert

CANCELLED_SERIES = "cathedral"
# cancel_session folds this into each booking's history reason, a 100-character column.
CANCELLATION_REASON = "The bus is off the road for its MOT."


def build_sessions(demo: Demo) -> None:
    """Create each series, its past sessions and its horizon, then settle every status."""
    planner = demo.users["coordinator"]
    for spec in SERIES:
        series = _ensure_series(demo, spec)
        demo.series[spec.key] = series
        _ensure_past_sessions(demo, series)
        for session in fill_series_horizon(series, today=demo.today, by=planner):
            backdate(session, _planned_at(demo, series, session.occurrence_date))

    sessions = (
        OutreachSession.objects.filter(
            series__in=demo.series.values(), occurrence_date__gte=demo.window_start
        )
        .select_related("venue", "series")
        .prefetch_related("services")
        .order_by("starts_at", "id")
    )
    demo.sessions = [_settle(demo, session) for session in sessions]
    # One future bus stop is called off, a week or more ahead, so its bookings can be moved.
    demo.cancelled_session = next(
        (
            s
            for s in demo.sessions
            if demo.series_key(s) == CANCELLED_SERIES
            and s.occurrence_date >= demo.today + timedelta(days=8)
        ),
        None,
    )


def _ensure_series(demo: Demo, spec: SeriesSpec) -> SessionSeries:
    series, _ = upsert(
        SessionSeries,
        {"organisation": demo.orgs[spec.organisation], "name": spec.name},
        {
            "venue": demo.venues[spec.venue],
            "mobile_unit": demo.unit if spec.uses_bus else None,
            "weekdays": list(spec.weekdays),
            "interval_weeks": spec.interval_weeks,
            "start_time": spec.start,
            "end_time": spec.end,
            "booking_mode": spec.booking_mode,
            "slot_minutes": spec.slot_minutes,
            "lanes": spec.lanes,
            "walk_in_share_percent": spec.walk_in_share,
            "audience": spec.audience,
            "until_date": None,
            "occurrence_limit": None,
            "is_active": True,
        },
        # The start date anchors fortnightly and four-weekly series: it is set once, so a run
        # on a later day does not shift which weeks they fall in.
        create_only={"start_date": demo.window_start},
    )
    set_related(series, "services", [demo.services[code] for code in spec.services])
    set_related(series, "staff", [demo.staff[username] for username in spec.staff])
    return series


def _ensure_past_sessions(demo: Demo, series: SessionSeries) -> None:
    """Create the series' sessions from the demo's first day up to yesterday.

    fill_series_horizon only creates sessions from today on; the past ones are made the same
    way here (wall-clock times through local_datetime, one per series and date, the rota
    copied onto StaffAssignment) so they look exactly like sessions the series made.
    """
    existing = set(series.sessions.values_list("occurrence_date", flat=True))
    services = list(series.services.all())
    staff_ids = list(series.staff.values_list("pk", flat=True))
    planner = demo.users["coordinator"]
    for day in series_dates(series, until=demo.today - timedelta(days=1)):
        if day < demo.window_start or day in existing:
            continue
        starts_at = local_datetime(day, series.start_time)
        ends_at = local_datetime(day, series.end_time)
        if series.mobile_unit_id and _unit_busy(series.mobile_unit_id, starts_at, ends_at):
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
        save_new(
            session,
            by=planner,
            reason="Created from the series",
            when=_planned_at(demo, series, day),
        )
        session.services.set(services)
        busy = set(
            StaffAssignment.objects.filter(
                staff_id__in=staff_ids, is_live=True, starts_at__lt=ends_at, ends_at__gt=starts_at
            ).values_list("staff_id", flat=True)
        )
        StaffAssignment.objects.bulk_create(
            StaffAssignment(
                session=session, staff_id=staff_id, starts_at=starts_at, ends_at=ends_at
            )
            for staff_id in staff_ids
            if staff_id not in busy
        )


def _planned_at(demo: Demo, series: SessionSeries, day: date) -> datetime:
    """When the series would have made this session: a horizon ahead, once it existed."""
    horizon = timedelta(weeks=settings.OUTREACH_SERIES_HORIZON_WEEKS)
    made = max(day - horizon, series.start_date - timedelta(days=7))
    return demo.at(made, time(9, 0))


def _unit_busy(unit_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    return (
        OutreachSession.objects.live()
        .filter(mobile_unit_id=unit_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exists()
    )


def _settle(demo: Demo, session: OutreachSession) -> OutreachSession:
    """Move a session to the status its date calls for: done, running, confirmed or planned.

    The status depends on the date only, never the time of day, so two runs on the same day
    agree; a session already completed or cancelled is left as it is.
    """
    status = OutreachSession.Status
    day: date = session.occurrence_date
    by = demo.users[SERIES_BY_KEY[demo.series_key(session)].booker]
    clinician = demo.users[SERIES_BY_KEY[demo.series_key(session)].clinician]
    if session.status in (status.COMPLETED, status.CANCELLED):
        return session
    if day <= demo.today and session.status != status.IN_PROGRESS:
        session = move(
            move_session,
            session,
            status.IN_PROGRESS,
            by=clinician,
            reason="Session started",
            when=demo.past(session.starts_at),
        )
    if day < demo.today:
        session = move(
            move_session,
            session,
            status.COMPLETED,
            by=clinician,
            reason="Session finished; everyone waiting was seen",
            when=demo.past(session.ends_at),
        )
    elif demo.today < day <= demo.today + timedelta(days=7) and session.status == status.PLANNED:
        session = move(
            move_session,
            session,
            status.CONFIRMED,
            by=by,
            reason="Venue, staff and equipment confirmed",
            when=demo.at(day - timedelta(days=7), time(9, 0)),
        )
    return session


def call_off_session(demo: Demo) -> None:
    """Cancel the chosen future session, and its bookings with it, once they were made."""
    session = demo.cancelled_session
    if session is None or session.status == OutreachSession.Status.CANCELLED:
        return
    demo.cancelled_session = cancel_session(
        session, by=demo.users["coordinator"], reason=CANCELLATION_REASON
    )
