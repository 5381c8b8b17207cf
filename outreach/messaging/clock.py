"""London wall-clock rules for messages: quiet hours and the patient's day for the cap."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def london() -> ZoneInfo:
    return ZoneInfo(settings.OUTREACH_TIME_ZONE)


def at_london(day: date, wall_clock: time) -> datetime:
    """The instant London clocks show `wall_clock` on `day` (a skipped time moves forward)."""
    zone = london()
    candidate = datetime.combine(day, wall_clock, tzinfo=zone)
    return candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)


def _quiet_window() -> tuple[time, time] | None:
    quiet = settings.OUTREACH_QUIET_HOURS
    if not quiet:
        return None
    start, end = (time.fromisoformat(part) for part in quiet)
    return start, end


def in_quiet_hours(moment: datetime) -> bool:
    window = _quiet_window()
    if window is None:
        return False
    start, end = window
    now = moment.astimezone(london()).time()
    if start > end:  # the usual case: the window spans midnight (21:00-08:00)
        return now >= start or now < end
    return start <= now < end


def after_quiet_hours(moment: datetime) -> datetime:
    """`moment`, or the end of the quiet hours it falls in, in London wall-clock time.

    Worked out on the London date, not by adding hours, so 08:00 stays 08:00 across a clock
    change in the night.
    """
    if not in_quiet_hours(moment):
        return moment
    start, end = _quiet_window()  # type: ignore[misc]
    local = moment.astimezone(london())
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    return at_london(day, end)


def lease_expired_before(now: datetime) -> datetime:
    """Claims made before this instant are presumed abandoned by a worker that died.

    The one place the sending lease is read, so a test can move the lease on (a worker killed
    mid-batch) instead of waiting it out in real time.
    """
    return now - timedelta(seconds=settings.OUTREACH_SENDING_LEASE_SECONDS)


def london_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The start and end of the London day containing `moment` (23 or 25 hours at a change)."""
    day = moment.astimezone(london()).date()
    return at_london(day, time(0)), at_london(day + timedelta(days=1), time(0))
