"""Free appointment slots: computed from a session's hours, lanes, staff and bookings.

Reading only; booking a slot is `outreach.services.book_slot`, which re-checks everything under
a lock. The search reads bookings one time window at a time, earliest first, with one query per
window whatever the number of sessions: finding the next 20 free slots across a month of full
clinics reads the bookings of the first hours that have room, not all of them.
"""

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet

from clinics.models import ServiceType
from outreach import booking_sql
from outreach.models import BookingMode, OutreachSession, StaffAssignment

# The first window read, doubled each time it holds too few free slots.
_FIRST_WINDOW = timedelta(hours=2)

BOOKABLE_SESSION_STATUSES = (
    OutreachSession.Status.PLANNED,
    OutreachSession.Status.CONFIRMED,
    OutreachSession.Status.IN_PROGRESS,
)

# The session fields the computation reads (for `.only()` on a month of sessions).
SESSION_FIELDS = (
    "pk",
    "status",
    "booking_mode",
    "starts_at",
    "ends_at",
    "slot_minutes",
    "lanes",
    "walk_in_share_percent",
    "minimum_notice_minutes",
)

# Lane -> the start and end of each active booking on it.
LaneBookings = dict[int, list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class Slot:
    session_id: int
    starts_at: datetime
    ends_at: datetime
    lane: int
    lanes_free: int


def slot_span(session: OutreachSession, service: ServiceType) -> timedelta:
    """How long a booking of `service` takes in this session: whole slots, at least one."""
    slots = max(1, ceil(service.default_duration_minutes / session.slot_minutes))
    return timedelta(minutes=slots * session.slot_minutes)


def session_capacity(session: OutreachSession) -> int:
    """Slot positions in the session: lanes times the number of slots in its hours."""
    minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    return session.lanes * (minutes // session.slot_minutes)


def appointment_capacity(session: OutreachSession) -> int:
    """Slot positions that may be booked ahead; the rest is held back for walk-ins."""
    if session.booking_mode == BookingMode.WALK_IN:
        return 0
    capacity = session_capacity(session)
    share = 0 if session.booking_mode == BookingMode.APPOINTMENTS else session.walk_in_share_percent
    return capacity - ceil(capacity * share / 100)


def booking_units(session: OutreachSession, starts_at: datetime, ends_at: datetime) -> int:
    return max(1, ceil((ends_at - starts_at).total_seconds() / 60 / session.slot_minutes))


def usable_lanes(session: OutreachSession, service: ServiceType, competent_staff: int) -> int:
    """Lanes that can deliver `service`: each needs a competent member of staff on the rota."""
    if not service.requires_competency:
        return session.lanes
    return min(session.lanes, competent_staff)


def _competent_counts(session_ids: list[int], service: ServiceType) -> dict[int, int]:
    if not service.requires_competency or not session_ids:
        return {}
    rows = (
        StaffAssignment.objects.filter(
            session_id__in=session_ids,
            is_live=True,
            staff__is_active=True,
            staff__competencies=service,
        )
        .values("session_id")
        .annotate(n=Count("staff_id", distinct=True))
    )
    return {row["session_id"]: row["n"] for row in rows}


class PatientBooking(NamedTuple):
    """One of a patient's bookings, as the patient clash check needs it."""

    session_id: int
    status: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class SessionBookings:
    """What the slot rules ask of one session's active bookings, read once (under its lock).

    Booking reads the whole session in one statement instead of its booked time and then its
    lane bookings window by window; the answers are the same.
    """

    session_id: int
    appointment_seconds: float
    by_lane: LaneBookings
    # A patient's bookings that could clash with a slot in the session, when read with it.
    patient_bookings: tuple[PatientBooking, ...] | None = None

    def overlapping(self, start: datetime, end: datetime) -> LaneBookings:
        """The lane bookings overlapping [start, end), as `booking_sql.lane_bookings` has them."""
        return {
            lane: [(begins, ends) for begins, ends in held if begins < end and ends > start]
            for lane, held in self.by_lane.items()
        }


def _appointment_units(
    sessions: dict[int, OutreachSession], known: SessionBookings | None = None
) -> dict[int, int]:
    """Slot-units booked ahead in each session (walk-ins do not use the appointment share)."""
    if known is None:
        seconds = booking_sql.appointment_seconds(list(sessions))
    else:
        seconds = {known.session_id: known.appointment_seconds} if known.appointment_seconds else {}
    return {
        session_id: booking_sql.units_from_seconds(booked, sessions[session_id].slot_minutes)
        for session_id, booked in seconds.items()
    }


def appointment_units_in(session: OutreachSession) -> int:
    """Slot-units booked ahead in `session` by its active bookings."""
    return _appointment_units({session.pk: session}).get(session.pk, 0)


def _lane_bookings(
    session_ids: list[int], start: datetime, end: datetime, known: SessionBookings | None = None
) -> dict[int, LaneBookings]:
    """Active bookings holding a lane and overlapping [start, end), by session and lane."""
    if known is None:
        return booking_sql.lane_bookings(session_ids, start, end)
    return {known.session_id: known.overlapping(start, end)}


def free_lanes(
    by_lane: LaneBookings, lanes: int, starts_at: datetime, ends_at: datetime
) -> list[int]:
    """The lanes (1..lanes) with no booking overlapping [starts_at, ends_at)."""
    return [
        lane
        for lane in range(1, lanes + 1)
        if all(not (start < ends_at and starts_at < end) for start, end in by_lane.get(lane, ()))
    ]


class LaneIndex:
    """Lane bookings arranged to answer `free_lanes` with one bisect per lane.

    A lane's active bookings never overlap (the `booking_lane_no_overlap` constraint), so sorted
    by start they are sorted by end too: the first one ending after a slot's start is the only
    one that can overlap it. A lane whose bookings do overlap (SQLite has no such constraint to
    hold them apart) is checked booking by booking, as `free_lanes` does.
    """

    def __init__(self, by_lane: LaneBookings, lanes: int) -> None:
        self._lanes = range(1, lanes + 1)
        self._disjoint: dict[int, tuple[list[datetime], list[datetime]]] = {}
        self._other: LaneBookings = {}
        for lane in self._lanes:
            held = sorted(by_lane.get(lane, ()))
            if not held:
                continue
            if all(held[n][1] <= held[n + 1][0] for n in range(len(held) - 1)):
                self._disjoint[lane] = ([start for start, _ in held], [end for _, end in held])
            else:
                self._other[lane] = held

    def free(self, starts_at: datetime, ends_at: datetime) -> list[int]:
        """The lanes with no booking overlapping [starts_at, ends_at), as `free_lanes` has them."""
        free = []
        for lane in self._lanes:
            arranged = self._disjoint.get(lane)
            if arranged is not None:
                starts, ends = arranged
                n = bisect_right(ends, starts_at)
                if n < len(starts) and starts[n] < ends_at:
                    continue
            elif any(s < ends_at and starts_at < e for s, e in self._other.get(lane, ())):
                continue
            free.append(lane)
        return free


@dataclass
class _Plan:
    """What is known of one session before its bookings are read."""

    session: OutreachSession
    lanes: int
    span: timedelta
    earliest: datetime


def _plans(sessions: list[OutreachSession], service: ServiceType, now: datetime) -> list[_Plan]:
    competent = _competent_counts([session.pk for session in sessions], service)
    plans = []
    for session in sessions:
        lanes = usable_lanes(session, service, competent.get(session.pk, 0))
        span = slot_span(session, service)
        earliest = max(session.starts_at, now + timedelta(minutes=session.minimum_notice_minutes))
        if lanes and earliest + span <= session.ends_at:
            plans.append(_Plan(session, lanes, span, earliest))
    return plans


def _with_room(plans: list[_Plan], known: SessionBookings | None = None) -> list[_Plan]:
    """The plans whose session has appointment capacity left for one more booking.

    Asked only of the sessions a window reaches, so a month-long search does not add up the
    bookings of every clinic in the month.
    """
    if not plans:
        return []
    units = _appointment_units({plan.session.pk: plan.session for plan in plans}, known)
    return [
        plan
        for plan in plans
        if units.get(plan.session.pk, 0)
        + booking_units(plan.session, plan.session.starts_at, plan.session.starts_at + plan.span)
        <= appointment_capacity(plan.session)
    ]


def _slots_in_window(
    plan: _Plan, by_lane: LaneBookings, start: datetime, end: datetime, limit: int | None = None
) -> list[Slot]:
    """The plan's free slots that start within [start, end), the first `limit` of them if given.

    Each session's slots come earliest first, so no answer needs more than `limit` of one
    session's.
    """
    session = plan.session
    step = timedelta(minutes=session.slot_minutes)
    # The first grid point at or after both the window start and the earliest bookable time.
    first = max(start, plan.earliest)
    offset = first - session.starts_at
    steps = -(-offset // step) if offset > timedelta(0) else 0
    starts_at = session.starts_at + steps * step
    result = []
    lanes = LaneIndex(by_lane, plan.lanes)
    while starts_at < end and starts_at + plan.span <= session.ends_at:
        free = lanes.free(starts_at, starts_at + plan.span)
        if free:
            result.append(Slot(session.pk, starts_at, starts_at + plan.span, free[0], len(free)))
            if limit is not None and len(result) >= limit:
                break
        starts_at += step
    return result


def free_slots(
    sessions: Iterable[OutreachSession],
    service: ServiceType,
    *,
    now: datetime,
    limit: int | None = None,
    until: datetime | None = None,
    offered: bool = False,
    known: SessionBookings | None = None,
) -> list[Slot]:
    """Bookable slots for `service` in `sessions`, earliest first.

    At most `limit` of them, and only slots starting before `until` when it is given.
    `offered=True` says the caller has already checked that every session offers `service`.
    `known` is the bookings of the one session given, already read.
    """
    candidates = [
        session
        for session in sessions
        if session.status in BOOKABLE_SESSION_STATUSES
        and session.booking_mode != BookingMode.WALK_IN
    ]
    if not candidates:
        return []
    if not offered:
        offering = set(
            OutreachSession.services.through.objects.filter(
                outreachsession_id__in=[session.pk for session in candidates],
                servicetype_id=service.pk,
            ).values_list("outreachsession_id", flat=True)
        )
        candidates = [session for session in candidates if session.pk in offering]
    plans = _plans(candidates, service, now)
    if not plans:
        return []
    horizon = max(plan.session.ends_at for plan in plans)
    if until is not None:
        horizon = min(horizon, until)
    window_start = min(plan.earliest for plan in plans)
    width = _FIRST_WINDOW
    slots: list[Slot] = []
    checked: set[int] = set()
    full: set[int] = set()
    while window_start < horizon:
        window_end = min(window_start + width, horizon)
        reached = [
            plan
            for plan in plans
            if plan.earliest < window_end and plan.session.ends_at > window_start
        ]
        if not reached:
            # Between clinics (overnight, say): the next window starts at the next session
            # and is the first window's width again, as the first session of a run reads.
            upcoming = [plan.earliest for plan in plans if plan.earliest >= window_end]
            if not upcoming:
                break
            window_start, width = min(upcoming), _FIRST_WINDOW
            continue
        unchecked = [plan for plan in reached if plan.session.pk not in checked]
        checked.update(plan.session.pk for plan in unchecked)
        full.update(plan.session.pk for plan in unchecked)
        full.difference_update(plan.session.pk for plan in _with_room(unchecked, known))
        active = [plan for plan in reached if plan.session.pk not in full]
        if active:
            longest = max(plan.span for plan in active)
            bookings = _lane_bookings(
                [plan.session.pk for plan in active], window_start, window_end + longest, known
            )
            wanted = None if limit is None else limit - len(slots)
            for plan in active:
                slots.extend(
                    _slots_in_window(
                        plan, bookings[plan.session.pk], window_start, window_end, wanted
                    )
                )
        if limit is not None and len(slots) >= limit:
            break
        window_start = window_end
        width *= 2
    slots.sort(key=lambda slot: (slot.starts_at, slot.session_id))
    return slots[:limit] if limit is not None else slots


def search_slots(
    sessions: QuerySet[OutreachSession],
    service: ServiceType,
    *,
    now: datetime,
    limit: int,
    until: datetime | None = None,
    page_size: int = 40,
    offered: bool = False,
) -> list[Slot]:
    """The first `limit` free slots across a queryset of sessions, read a page at a time.

    Sessions are read in order of start. A session cannot hold a slot earlier than its own
    start, so once `limit` slots are found and the next session starts after the last of
    them, nothing later can change the answer: a month's search usually reads one page.
    `offered=True` says every session of the queryset offers `service` (it is filtered by
    `sessions_offering`), so that is not asked again page by page.
    """
    ordered = sessions.only(*SESSION_FIELDS).order_by("starts_at", "pk")
    found: list[Slot] = []
    offset = 0
    while True:
        page = list(ordered[offset : offset + page_size + 1])
        following = page[page_size] if len(page) > page_size else None
        page = page[:page_size]
        if not page:
            break
        found = sorted(
            found + free_slots(page, service, now=now, limit=limit, until=until, offered=offered),
            key=lambda slot: (slot.starts_at, slot.session_id),
        )[:limit]
        if following is None:
            break
        if len(found) >= limit and following.starts_at >= found[-1].starts_at:
            break
        offset += page_size
    return found


def slot_at(
    session: OutreachSession,
    service: ServiceType,
    starts_at: datetime,
    *,
    now: datetime,
    known: SessionBookings | None = None,
) -> Slot | None:
    """The free slot of `service` starting exactly at `starts_at`, or None if there is none.

    `known` is the session's bookings, already read.
    """
    if session.status not in BOOKABLE_SESSION_STATUSES:
        return None
    plans = _with_room(_plans([session], service, now), known)
    if not plans:
        return None
    plan = plans[0]
    bookings = _lane_bookings([session.pk], starts_at, starts_at + plan.span, known)
    window_end = starts_at + timedelta(microseconds=1)
    found = _slots_in_window(plan, bookings[session.pk], starts_at, window_end)
    return found[0] if found and found[0].starts_at == starts_at else None


def sessions_offering(service: ServiceType, *, start: datetime, end: datetime) -> Q:
    """The filter for live sessions offering `service` that start within [start, end).

    A search of sessions filtered by it may say `offered=True`.
    """
    return Q(
        services=service,
        status__in=BOOKABLE_SESSION_STATUSES,
        starts_at__gte=start,
        starts_at__lt=end,
    ) & ~Q(booking_mode=BookingMode.WALK_IN)
