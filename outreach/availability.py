"""Free appointment slots: computed from a session's hours, lanes, staff and bookings.

Reading only; booking a slot is `outreach.services.book_slot`, which re-checks everything under
a lock. The computation is batched (one query each for sessions, bookings and competent staff,
whatever the number of sessions) because the slot search runs across a month of clinics.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from django.db.models import Count, Q

from clinics.models import ServiceType
from outreach.models import Booking, BookingMode, OutreachSession, StaffAssignment

BOOKABLE_SESSION_STATUSES = (
    OutreachSession.Status.PLANNED,
    OutreachSession.Status.CONFIRMED,
    OutreachSession.Status.IN_PROGRESS,
)


@dataclass(frozen=True)
class Slot:
    session_id: int
    starts_at: datetime
    ends_at: datetime
    lane: int
    lanes_free: int


@dataclass
class _Occupancy:
    """The active bookings of one session, as (lane, start, end) and slot-units used."""

    by_lane: dict[int, list[tuple[datetime, datetime]]]
    appointment_units: int


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


def _occupancy(sessions: dict[int, OutreachSession]) -> dict[int, _Occupancy]:
    occupancy = {pk: _Occupancy(defaultdict(list), 0) for pk in sessions}
    rows = Booking.objects.filter(
        session_id__in=list(sessions), status__in=Booking.ACTIVE_STATUSES
    ).values_list("session_id", "lane", "starts_at", "ends_at", "source")
    for session_id, lane, starts_at, ends_at, source in rows:
        entry = occupancy[session_id]
        if lane is not None:
            entry.by_lane[lane].append((starts_at, ends_at))
        if source != Booking.Source.WALK_IN:
            entry.appointment_units += booking_units(sessions[session_id], starts_at, ends_at)
    return occupancy


def free_lanes(
    by_lane: dict[int, list[tuple[datetime, datetime]]],
    lanes: int,
    starts_at: datetime,
    ends_at: datetime,
) -> list[int]:
    return [
        lane
        for lane in range(1, lanes + 1)
        if all(not (start < ends_at and starts_at < end) for start, end in by_lane.get(lane, ()))
    ]


def free_slots(
    sessions: Iterable[OutreachSession],
    service: ServiceType,
    *,
    now: datetime,
    limit: int | None = None,
) -> list[Slot]:
    """Every bookable slot for `service` in `sessions`, earliest first (at most `limit`)."""
    candidates = {
        session.pk: session
        for session in sessions
        if session.status in BOOKABLE_SESSION_STATUSES
        and session.booking_mode != BookingMode.WALK_IN
    }
    if not candidates:
        return []
    offered = set(
        OutreachSession.services.through.objects.filter(
            outreachsession_id__in=list(candidates), servicetype_id=service.pk
        ).values_list("outreachsession_id", flat=True)
    )
    candidates = {pk: s for pk, s in candidates.items() if pk in offered}
    competent = _competent_counts(list(candidates), service)
    occupancy = _occupancy(candidates)
    slots: list[Slot] = []
    for session in sorted(candidates.values(), key=lambda s: (s.starts_at, s.pk)):
        slots.extend(_session_slots(session, service, now, competent.get(session.pk, 0), occupancy))
        if limit is not None and len(slots) >= limit:
            break
    slots.sort(key=lambda slot: (slot.starts_at, slot.session_id))
    return slots[:limit] if limit is not None else slots


def _session_slots(
    session: OutreachSession,
    service: ServiceType,
    now: datetime,
    competent: int,
    occupancy: dict[int, _Occupancy],
) -> list[Slot]:
    lanes = usable_lanes(session, service, competent)
    if lanes == 0:
        return []
    span = slot_span(session, service)
    units_needed = booking_units(session, session.starts_at, session.starts_at + span)
    used = occupancy[session.pk]
    if used.appointment_units + units_needed > appointment_capacity(session):
        return []
    earliest = now + timedelta(minutes=session.minimum_notice_minutes)
    step = timedelta(minutes=session.slot_minutes)
    result = []
    starts_at = session.starts_at
    while starts_at + span <= session.ends_at:
        if starts_at >= earliest:
            free = free_lanes(used.by_lane, lanes, starts_at, starts_at + span)
            if free:
                result.append(Slot(session.pk, starts_at, starts_at + span, free[0], len(free)))
        starts_at += step
    return result


def sessions_offering(service: ServiceType, *, start: datetime, end: datetime) -> Q:
    """The filter for live sessions offering `service` that start within [start, end)."""
    return Q(
        services=service,
        status__in=BOOKABLE_SESSION_STATUSES,
        starts_at__gte=start,
        starts_at__lt=end,
    ) & ~Q(booking_mode=BookingMode.WALK_IN)
