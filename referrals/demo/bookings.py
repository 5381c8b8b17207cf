"""Bookings in every status and source, with an outcome for everyone seen.

The whole plan is worked out in memory first, from the seeded random generator and the
sessions' dates alone, and only then written. A second run on the same day therefore plans
the very same bookings under the same idempotency keys, finds them, and writes nothing.
"""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db.models import Q

from clinics.models import Patient, ServiceType
from outreach.models import Audience, Booking, OutreachSession, VisitOutcome
from outreach.services import move_booking
from referrals.demo.programmes import BOOKING_KEY_PREFIX, SERIES_BY_KEY, SeriesSpec
from referrals.demo.records import Demo, PlannedBooking, move, save_new, weighted
from referrals.demo.sessions import call_off_session

S = Booking.Status
R = VisitOutcome.Result

# Status patterns, walked in order, so every status is present whatever day the demo runs.
_PAST = [S.FULFILLED, S.FULFILLED, S.NOSHOW, S.FULFILLED, S.CANCELLED, S.FULFILLED]
_PAST += [S.FULFILLED, S.FULFILLED, S.NOSHOW, S.FULFILLED, S.FULFILLED, S.CANCELLED]
_PAST += [S.FULFILLED, S.ENTERED_IN_ERROR, S.FULFILLED, S.FULFILLED]
_PAST_WALK_IN = [S.FULFILLED] * 11 + [S.ENTERED_IN_ERROR]
_TODAY = [S.FULFILLED, S.ARRIVED, S.FULFILLED, S.BOOKED, S.ARRIVED, S.BOOKED]
_TODAY_WALK_IN = [S.FULFILLED, S.ARRIVED, S.FULFILLED, S.ARRIVED]
_FUTURE = [S.BOOKED, S.BOOKED, S.CANCELLED, S.BOOKED, S.BOOKED]
_SOURCES = {
    "mixed": [Booking.Source.BOOKED, Booking.Source.WALK_IN, Booking.Source.SELF_REFERRAL],
    "appointments": [Booking.Source.BOOKED, Booking.Source.BOOKED, Booking.Source.SELF_REFERRAL],
    "walk_in": [Booking.Source.WALK_IN],
}
_RESULTS = {
    "dry-blood-spot": [R.NON_REACTIVE, R.NON_REACTIVE, R.REACTIVE, R.AWAITED, R.INADEQUATE],
    "cervical-screening": [R.NORMAL, R.AWAITED, R.ABNORMAL, R.NORMAL, R.INADEQUATE],
    "nhs-health-check": [R.NORMAL, R.ABNORMAL, R.NORMAL],
    "blood-pressure": [R.NORMAL, R.ABNORMAL, R.NORMAL, R.NORMAL],
    "eye-test": [R.NORMAL, R.ABNORMAL],
}
# Days from the visit to the follow-up or recall, by (service, result); None for no date.
_FOLLOW_UP = {
    ("cervical-screening", R.NORMAL): 3 * 365,
    ("cervical-screening", R.INADEQUATE): 90,
    ("dry-blood-spot", R.INADEQUATE): 7,
    ("nhs-health-check", R.NORMAL): 5 * 365,
    ("nhs-health-check", R.ABNORMAL): 28,
    ("blood-pressure", R.ABNORMAL): 28,
    ("wound-care", R.NOT_APPLICABLE): 7,
}
_NOTES = {
    R.REACTIVE: "Reactive for hepatitis C antibodies; referred for an RNA test and treatment.",
    R.ABNORMAL: "Abnormal result explained in person; referral discussed and agreed.",
    R.INADEQUATE: "Sample inadequate; offered a repeat.",
    R.AWAITED: "Sample sent to the lab; result to be given in person.",
}
_PATIENT_REASONS = [
    "Has a job interview that morning.",
    "Moving to a hostel in another town.",
    "Childcare fell through.",
    "Feeling unwell; will rebook.",
]
_ERROR_REASONS = ["Booked on the wrong person's record.", "Duplicate of another booking."]


class _Rota:
    """Hand out a cohort's patients in turn, so everyone is seen over the weeks."""

    def __init__(self, patients: list[Patient], rng: random.Random) -> None:
        self.patients = list(patients)
        rng.shuffle(self.patients)
        self.position = 0

    def next(self, wanted: Callable[[Patient], bool]) -> Patient | None:
        count = len(self.patients)
        for step in range(count):
            patient = self.patients[(self.position + step) % count]
            if wanted(patient):
                self.position = (self.position + step + 1) % count
                return patient
        return None


class _Pattern:
    """Walk each named pattern in order, so the mix comes out the same on every run."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}

    def next(self, name: str, values: list[str]) -> str:
        position = self.positions.get(name, 0)
        self.positions[name] = position + 1
        return values[position % len(values)]


def build_bookings(demo: Demo) -> None:
    """Plan the bookings, write the missing ones, then call off the cancelled session."""
    _plan(demo)
    existing = {
        booking.idempotency_key: booking
        for booking in Booking.objects.filter(idempotency_key__startswith=BOOKING_KEY_PREFIX)
    }
    for item in demo.plan:
        booking = existing.get(item.key)
        if booking is None:
            if _clashes(item):
                # Only possible when an earlier day's demo left bookings in the way.
                continue
            booking = _create(item)
        demo.bookings[item.key] = booking
    call_off_session(demo)
    for item in demo.plan:
        if item.cancelled_with_session and item.key in demo.bookings:
            demo.bookings[item.key].refresh_from_db()


def _session_kind(demo: Demo, session: OutreachSession) -> str:
    if demo.cancelled_session is not None and session.pk == demo.cancelled_session.pk:
        return "cancelled"
    if session.status == OutreachSession.Status.CANCELLED:
        return "skip"
    day = session.occurrence_date
    if day < demo.today:
        return "past"
    if day == demo.today:
        return "today"
    return "soon" if day <= demo.today + timedelta(days=14) else "later"


def _plan(demo: Demo) -> None:
    rng = demo.rng
    rotas = {key: _Rota(patients, rng) for key, patients in demo.cohorts.items()}
    patterns = _Pattern()
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for session in demo.sessions:
        spec = SERIES_BY_KEY[demo.series_key(session)]
        kind = _session_kind(demo, session)
        count = {
            "past": rng.randint(*spec.per_session),
            "today": rng.randint(*spec.per_session),
            "soon": rng.randint(1, 3),
            "later": int(rng.random() < 0.3),
            "cancelled": 2,
            "skip": 0,
        }[kind]
        if kind in ("soon", "later", "cancelled") and spec.booking_mode == "walk_in":
            count = 0
        _plan_session(demo, session, spec, kind, count, rotas[spec.cohort], patterns, busy)


def _plan_session(
    demo: Demo,
    session: OutreachSession,
    spec: SeriesSpec,
    kind: str,
    count: int,
    rota: _Rota,
    patterns: _Pattern,
    busy: dict[int, list[tuple[datetime, datetime]]],
) -> None:
    rng = demo.rng
    slot = timedelta(minutes=session.slot_minutes)
    # Slot arithmetic in UTC: an hour added to a London wall-clock time is not always an hour.
    opens = session.starts_at.astimezone(UTC)
    slot_count = int((session.ends_at - session.starts_at) / slot)
    taken: dict[int, set[int]] = {lane: set() for lane in range(1, session.lanes + 1)}
    seen: set[int] = set()
    cursor = 0
    day = session.occurrence_date
    for number in range(count):
        service = demo.services[weighted(rng, spec.services)]
        length = -(-service.default_duration_minutes // session.slot_minutes)
        cursor += rng.randint(0, 2)
        lead = timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
        since_booked = timedelta(hours=rng.randint(2, 96))
        early = timedelta(minutes=rng.randint(0, 20))
        source = patterns.next(spec.booking_mode, _SOURCES[spec.booking_mode])
        if kind not in ("past", "today") and source == Booking.Source.WALK_IN:
            source = Booking.Source.BOOKED
        walk_in = source == Booking.Source.WALK_IN
        status = {
            "past": patterns.next("past-walk-in", _PAST_WALK_IN)
            if walk_in
            else patterns.next("past", _PAST),
            "today": patterns.next("today-walk-in", _TODAY_WALK_IN)
            if walk_in
            else patterns.next("today", _TODAY),
            "soon": patterns.next("future", _FUTURE),
            "later": S.BOOKED,
            "cancelled": S.BOOKED,
        }[kind]

        def eligible(patient: Patient, service: ServiceType = service) -> bool:
            if patient.pk in seen:
                return False
            if session.audience == Audience.WOMEN and patient.sex != Patient.Sex.FEMALE:
                return False
            if session.audience == Audience.MEN and patient.sex != Patient.Sex.MALE:
                return False
            return service.eligibility_problem(patient, day) is None

        patient = rota.next(eligible)
        if patient is None:
            continue
        place = _place(taken, slot_count, length, cursor, opens, slot, busy.get(patient.pk, []))
        if place is None:
            continue
        lane, index = place
        cursor = index
        starts_at = opens + slot * index
        ends_at = starts_at + slot * length
        seen.add(patient.pk)
        active = status in Booking.ACTIVE_STATUSES
        if active:
            taken[lane].update(range(index, index + length))
            busy.setdefault(patient.pk, []).append((starts_at, ends_at))
        item = PlannedBooking(
            key=f"{BOOKING_KEY_PREFIX}{spec.key}:{day.isoformat()}:{number}",
            series_key=spec.key,
            session=session,
            patient=patient,
            service=service,
            lane=lane,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            status=status,
            booked_at=_booked_at(demo, session, starts_at - lead, since_booked, kind),
            booked_by=demo.users[spec.booker],
            clinician=demo.users[spec.clinician],
            cancelled_with_session=kind == "cancelled",
        )
        if walk_in:
            item.arrived_at = demo.past(max(session.starts_at, starts_at - early))
            item.booked_at = item.arrived_at - timedelta(minutes=1)
            item.booked_by = demo.users[spec.clinician]
        elif status in (S.ARRIVED, S.FULFILLED):
            item.arrived_at = demo.past(starts_at - early)
        _settle_plan(demo, item, patterns)
        demo.plan.append(item)


def _booked_at(
    demo: Demo,
    session: OutreachSession,
    ahead: datetime,
    since_booked: timedelta,
    kind: str,
) -> datetime:
    """When an appointment was made: days ahead, after the session existed, before now."""
    if kind == "cancelled":
        # Made before the session was called off, which happens as the demo loads.
        return demo.now - timedelta(days=2) - since_booked
    booked_at = min(ahead, demo.now - since_booked)
    return min(demo.now, max(booked_at, session.created_at + timedelta(minutes=30)))


def _place(
    taken: dict[int, set[int]],
    slot_count: int,
    length: int,
    cursor: int,
    opens: datetime,
    slot: timedelta,
    patient_busy: list[tuple[datetime, datetime]],
) -> tuple[int, int] | None:
    """The first lane and slot at or after `cursor` free for `length` slots, for this person."""
    for start in range(slot_count - length + 1):
        index = (cursor + start) % (slot_count - length + 1)
        begins, ends = opens + slot * index, opens + slot * (index + length)
        if any(b < ends and begins < e for b, e in patient_busy):
            continue
        for lane, used in taken.items():
            if not used.intersection(range(index, index + length)):
                return lane, index
    return None


def _settle_plan(demo: Demo, item: PlannedBooking, patterns: _Pattern) -> None:
    """Fill in when and why the booking reached its status, and the outcome if seen."""
    if item.status == S.FULFILLED:
        item.settled_at = demo.past(item.ends_at)
        results = _RESULTS.get(item.service.code)
        if results:
            item.outcome = VisitOutcome.Outcome.COMPLETED
            item.result = patterns.next(f"result:{item.service.code}", results)
        else:
            item.outcome = patterns.next(
                "outcome", [VisitOutcome.Outcome.COMPLETED] * 4 + [VisitOutcome.Outcome.PARTIAL]
            )
            item.result = R.NOT_APPLICABLE
        days = _FOLLOW_UP.get((item.service.code, item.result))
        if item.result in (R.ABNORMAL, R.REACTIVE, R.AWAITED) and days is None:
            days = 14
        day = item.session.occurrence_date
        item.follow_up_date = day + timedelta(days=days) if days else None
        item.outcome_notes = _NOTES.get(item.result, "")
    elif item.status == S.NOSHOW:
        item.settled_at = demo.past(item.session.ends_at)
        item.reason = "Did not arrive by the end of the session."
    elif item.status == S.CANCELLED:
        item.settled_at = demo.past(item.booked_at + (item.starts_at - item.booked_at) / 3)
        item.cancelled_by = Booking.CancelledBy.PATIENT
        item.reason = patterns.next("cancel-reason", _PATIENT_REASONS)
    elif item.status == S.ENTERED_IN_ERROR:
        item.settled_at = demo.past(item.booked_at + timedelta(minutes=20))
        item.reason = patterns.next("error-reason", _ERROR_REASONS)


def _clashes(item: PlannedBooking) -> bool:
    overlapping = Q(starts_at__lt=item.ends_at, ends_at__gt=item.starts_at)
    return (
        Booking.objects.active()
        .filter(
            (overlapping & Q(session=item.session, lane=item.lane))
            | (overlapping & Q(patient=item.patient))
            | Q(session=item.session, patient=item.patient)
        )
        .exists()
    )


def _create(item: PlannedBooking) -> Booking:
    walk_in = item.source == Booking.Source.WALK_IN
    booking = save_new(
        Booking(
            session=item.session,
            patient=item.patient,
            service_type=item.service,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            lane=item.lane,
            source=item.source,
            booked_by=item.booked_by,
            idempotency_key=item.key,
        ),
        by=item.booked_by,
        reason="Walk-in added to the session" if walk_in else "Booked",
        when=item.booked_at,
    )
    if item.status in (S.ARRIVED, S.FULFILLED):
        booking = move(
            move_booking,
            booking,
            S.ARRIVED,
            by=item.clinician,
            reason="Checked in",
            when=item.arrived_at,
            arrived_at=item.arrived_at,
        )
    if item.status == S.FULFILLED:
        booking = move(
            move_booking,
            booking,
            S.FULFILLED,
            by=item.clinician,
            reason="Seen",
            when=item.settled_at,
        )
        save_new(
            VisitOutcome(
                booking=booking,
                outcome=item.outcome,
                result=item.result,
                follow_up_date=item.follow_up_date,
                notes=item.outcome_notes,
                recorded_by=item.clinician,
            ),
            by=item.clinician,
            reason="Outcome recorded",
            when=item.settled_at,
        )
    elif item.status == S.NOSHOW:
        booking = move(
            move_booking,
            booking,
            S.NOSHOW,
            by=item.clinician,
            reason=item.reason,
            when=item.settled_at,
        )
    elif item.status == S.CANCELLED:
        booking = move(
            move_booking,
            booking,
            S.CANCELLED,
            by=item.booked_by,
            reason="Cancelled by the patient",
            when=item.settled_at,
            cancelled_by=item.cancelled_by,
            cancellation_reason=item.reason,
        )
    elif item.status == S.ENTERED_IN_ERROR:
        booking = move(
            move_booking,
            booking,
            S.ENTERED_IN_ERROR,
            by=item.booked_by,
            reason=item.reason,
            when=item.settled_at,
        )
    return booking
