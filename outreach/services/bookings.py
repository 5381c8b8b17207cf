"""Booking people in, and the day itself: walk-ins, check-in, seen, no-show, cancel, move."""

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clinics.domain import Conflict, DomainError, move_status
from clinics.models import Patient, ServiceType
from outreach import availability
from outreach.messaging import reminders
from outreach.models import (
    Audience,
    Booking,
    BookingMode,
    OutreachSession,
    VisitOutcome,
)
from outreach.services.common import busy_conflict, conflict_from, is_deadlock

_AUDIENCE_SEX = {Audience.WOMEN: Patient.Sex.FEMALE, Audience.MEN: Patient.Sex.MALE}


def _check_patient(patient: Patient, session: OutreachSession, service: ServiceType) -> None:
    if patient.merged_into_id is not None:
        raise DomainError(
            "This record was merged into another one: book the other record.",
            code="patient_merged",
            fields={"patient": "Merged into another record."},
        )
    wanted_sex = _AUDIENCE_SEX.get(Audience(session.audience))
    # An unrecorded sex is not a reason to turn someone away: staff know who is in front of them.
    if wanted_sex and patient.sex and patient.sex not in (wanted_sex, Patient.Sex.UNKNOWN):
        raise DomainError(
            f"This session is {session.get_audience_display().lower()}.",
            code="audience",
            fields={"patient": f"This session is {session.get_audience_display().lower()}."},
        )
    problem = service.eligibility_problem(patient, timezone.localdate(session.starts_at))
    if problem:
        raise DomainError(problem, code="not_eligible", fields={"service": problem})


def _offers(service: ServiceType) -> Exists:
    return Exists(
        OutreachSession.services.through.objects.filter(
            outreachsession_id=OuterRef("pk"), servicetype_id=service.pk
        )
    )


def _check_service(
    session: OutreachSession, service: ServiceType, *, offered: bool | None = None
) -> None:
    if offered is None:
        offered = session.services.filter(pk=service.pk).exists()
    if not offered:
        message = f"{service.name} is not offered at this session."
        raise DomainError(message, code="service_not_offered", fields={"service": message})


def _check_session_open(session: OutreachSession) -> None:
    if session.status not in availability.BOOKABLE_SESSION_STATUSES:
        raise Conflict(
            f"This session is {session.get_status_display().lower()}: it takes no bookings.",
            code="session_closed",
        )


def _check_patient_free(
    patient: Patient, session: OutreachSession, starts_at: datetime, ends_at: datetime
) -> None:
    """The same checks the constraints make, so SQLite gives the same answers as PostgreSQL."""
    clashes = list(
        Booking.objects.filter(patient=patient, status__in=Booking.ACTIVE_STATUSES)
        .filter(
            Q(session=session)
            | Q(
                status__in=[Booking.Status.BOOKED, Booking.Status.ARRIVED],
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            )
        )
        .values_list("session_id", flat=True)[:2]
    )
    if session.pk in clashes:
        raise Conflict("This person is already booked into this session.", code="already_booked")
    if clashes:
        raise Conflict(
            "This person already has a booking at that time.", code="patient_double_booked"
        )


def _choose_slot(
    session: OutreachSession,
    service: ServiceType,
    *,
    now: datetime,
    starts_at: datetime | None,
    lane: int | None,
) -> availability.Slot:
    if lane is not None and not 1 <= lane <= session.lanes:
        raise DomainError(
            f"This session has lanes 1 to {session.lanes}.",
            code="invalid",
            fields={"lane": f"Choose a lane from 1 to {session.lanes}."},
        )
    if starts_at is None:
        if lane is not None:
            raise DomainError(
                "Give the time as well as the lane, or neither for the next free slot.",
                code="invalid",
                fields={"starts_at": "Required when a lane is given."},
            )
        slots = availability.free_slots([session], service, now=now, limit=1, offered=True)
        if not slots:
            raise Conflict("There are no free slots left in this session.", code="no_free_slot")
        return slots[0]
    span = availability.slot_span(session, service)
    if starts_at < session.starts_at or starts_at + span > session.ends_at:
        raise DomainError(
            "That time is outside the session.",
            code="outside_session",
            fields={"starts_at": "Choose a time within the session's hours."},
        )
    if (starts_at - session.starts_at) % timedelta(minutes=session.slot_minutes):
        raise DomainError(
            f"Slots start every {session.slot_minutes} minutes from the session's start.",
            code="not_a_slot",
            fields={"starts_at": "Not the start of a slot."},
        )
    if starts_at < now + timedelta(minutes=session.minimum_notice_minutes):
        raise DomainError(
            "That slot is in the past or too soon to book.",
            code="too_late",
            fields={"starts_at": "Too soon to book."},
        )
    slot = availability.slot_at(session, service, starts_at, now=now)
    if slot is None:
        raise Conflict("That slot is not free.", code="lane_taken")
    if lane is None:
        return slot
    lanes_free = availability.free_lanes(
        _lanes_in_use(session, starts_at, starts_at + span),
        session.lanes,
        starts_at,
        starts_at + span,
    )
    if lane not in lanes_free:
        raise Conflict(f"Lane {lane} is not free at that time.", code="lane_taken")
    return availability.Slot(session.pk, starts_at, starts_at + span, lane, len(lanes_free))


def _lanes_in_use(
    session: OutreachSession, start: datetime, end: datetime
) -> availability.LaneBookings:
    by_lane: availability.LaneBookings = {}
    rows = (
        session.bookings.active()
        .filter(lane__isnull=False, starts_at__lt=end, ends_at__gt=start)
        .values_list("lane", "starts_at", "ends_at")
    )
    for lane, booked_from, booked_to in rows:
        by_lane.setdefault(lane, []).append((booked_from, booked_to))
    return by_lane


def _check_lane_free(booking: Booking, lane: int) -> None:
    """Refuse to put a booking (a walk-in being seen) in a lane someone holds at its time."""
    session = booking.session
    if not 1 <= lane <= session.lanes:
        raise DomainError(
            f"This session has lanes 1 to {session.lanes}.",
            code="invalid",
            fields={"lane": f"Choose a lane from 1 to {session.lanes}."},
        )
    taken = (
        Booking.objects.active()
        .filter(session=session, lane=lane)
        .filter(starts_at__lt=booking.ends_at, ends_at__gt=booking.starts_at)
        .exclude(pk=booking.pk)
        .exists()
    )
    if taken:
        raise Conflict(f"Lane {lane} is taken at that time.", code="lane_taken")


def _save_new(booking: Booking, *, by: Any, reason: str) -> Booking:
    """Insert a booking; callers hold a transaction that a refusal rolls back whole."""
    booking._history_user = by
    booking._change_reason = reason
    try:
        booking.save()
    except IntegrityError as error:
        raise conflict_from(error) from error
    except OperationalError as error:
        # Two inserts checking one exclusion constraint can wait on each other; PostgreSQL
        # then aborts one. The row locks taken first make this rare; this makes it a 409.
        if is_deadlock(error):
            raise busy_conflict() from error
        raise
    return booking


def book_slot(
    *,
    patient: Patient,
    session: OutreachSession,
    service: ServiceType,
    by: Any,
    starts_at: datetime | None = None,
    lane: int | None = None,
    source: str = Booking.Source.BOOKED,
    idempotency_key: str = "",
    notes: str = "",
    rescheduled_from: Booking | None = None,
    now: datetime | None = None,
) -> tuple[Booking, bool]:
    """Book `patient` into a given slot, or the session's next free one.

    Returns (booking, created). With an idempotency key, a retried request (a tablet on the bus
    that lost signal after sending) returns the booking the first request made.
    """
    now = now or timezone.now()
    if idempotency_key:
        existing = Booking.objects.filter(booked_by=by, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            # One booking at a time per session: the capacity and walk-in share checks read
            # every booking of the session, so they must not interleave. The exclusion
            # constraints still have the last word on lanes and people.
            session = (
                OutreachSession.objects.select_for_update(of=("self",))
                .annotate(offers_service=_offers(service))
                .get(pk=session.pk)
            )
            # Then the person: two bookings for one person in different sessions are
            # serialised here, before either inserts (always session first, then person).
            Patient.objects.select_for_update().filter(pk=patient.pk).first()
            _check_session_open(session)
            if session.booking_mode == BookingMode.WALK_IN:
                raise Conflict(
                    "This session is walk-in only: add the person as a walk-in on the day.",
                    code="walk_in_only",
                )
            _check_service(session, service, offered=session.offers_service)
            _check_patient(patient, session, service)
            slot = _choose_slot(session, service, now=now, starts_at=starts_at, lane=lane)
            _check_patient_free(patient, session, slot.starts_at, slot.ends_at)
            booking = Booking(
                session=session,
                patient=patient,
                service_type=service,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                lane=slot.lane,
                source=source,
                notes=notes,
                booked_by=by,
                idempotency_key=idempotency_key,
                rescheduled_from=rescheduled_from,
            )
            reason = "Rescheduled" if rescheduled_from else "Booked"
            saved = _save_new(booking, by=by, reason=reason)
            # Reminder rows commit or roll back with the booking itself.
            reminders.schedule_reminders(saved, now=now)
            return saved, True
    except Conflict:
        if idempotency_key:
            # Two retries of one request raced: the other one made the booking.
            existing = Booking.objects.filter(booked_by=by, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
        raise


@transaction.atomic
def add_walk_in(
    *,
    patient: Patient,
    session: OutreachSession,
    service: ServiceType,
    by: Any,
    notes: str = "",
    now: datetime | None = None,
) -> Booking:
    """Add someone who walked in to the session's queue (arrived, no lane until seen)."""
    now = now or timezone.now()
    session = OutreachSession.objects.select_for_update().get(pk=session.pk)
    _check_session_open(session)
    if session.booking_mode == BookingMode.APPOINTMENTS:
        raise Conflict("This session is by appointment only.", code="appointments_only")
    if not session.starts_at - timedelta(hours=2) <= now < session.ends_at:
        raise Conflict("Walk-ins are added on the day, while the session is on.", code="not_on_now")
    _check_service(session, service)
    _check_patient(patient, session, service)
    starts_at = max(now, session.starts_at)
    # An estimate of when they will be seen; it never runs past the end of the session.
    ends_at = min(starts_at + availability.slot_span(session, service), session.ends_at)
    _check_patient_free(patient, session, starts_at, ends_at)
    booking = Booking(
        session=session,
        patient=patient,
        service_type=service,
        starts_at=starts_at,
        ends_at=ends_at,
        lane=None,
        status=Booking.Status.ARRIVED,
        source=Booking.Source.WALK_IN,
        arrived_at=now,
        notes=notes,
        booked_by=by,
    )
    return _save_new(booking, by=by, reason="Walked in")


def walk_in_queue(session: OutreachSession) -> Any:
    """Walk-ins waiting to be seen, in the order they arrived."""
    return session.bookings.filter(
        status=Booking.Status.ARRIVED, source=Booking.Source.WALK_IN
    ).order_by("arrived_at", "id")


def move_booking(booking: Booking, to: str, *, by: Any, reason: str, **changes: Any) -> Booking:
    """Change a booking's status by the transition table, with history."""
    if to in (Booking.Status.ARRIVED, Booking.Status.FULFILLED) and "arrived_at" not in changes:
        changes["arrived_at"] = booking.arrived_at or timezone.now()
    try:
        with transaction.atomic():
            return move_status(
                booking, to, table=Booking.NEXT_STATUSES, by=by, reason=reason, changes=changes
            )
    except IntegrityError as error:
        raise conflict_from(error) from error


def check_in(booking: Booking, *, by: Any, now: datetime | None = None) -> Booking:
    """Mark that the person has arrived."""
    with transaction.atomic():
        # Read the status afresh: the caller's copy may predate a no-show.
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status == Booking.Status.NOSHOW:
            _check_slot_still_theirs(current)
            # They may have been booked somewhere else since they missed this one.
            _check_patient_free(
                current.patient, current.session, current.starts_at, current.ends_at
            )
        arrived = move_booking(
            booking,
            Booking.Status.ARRIVED,
            by=by,
            reason="Checked in",
            arrived_at=now or timezone.now(),
        )
        reminders.clear_on_check_in(arrived)
    return arrived


def _check_slot_still_theirs(booking: Booking) -> None:
    """Refuse a late arrival whose slot, or whose share of the session, went to someone else.

    A no-show frees the lane and the appointment capacity; arriving after all must not take
    them back from whoever was given them, nor from the walk-in share. Such a person joins the
    walk-in queue instead.
    """
    session = OutreachSession.objects.select_for_update().get(pk=booking.session_id)
    if booking.lane is not None:
        taken = (
            Booking.objects.active()
            .filter(session=session, lane=booking.lane)
            .filter(starts_at__lt=booking.ends_at, ends_at__gt=booking.starts_at)
            .exclude(pk=booking.pk)
            .exists()
        )
        if taken:
            raise Conflict(
                "Their slot has been given to someone else: add them as a walk-in.",
                code="slot_given_away",
            )
    if booking.source != Booking.Source.WALK_IN:
        used = availability.appointment_units_in(session)
        if used + availability.booking_units(
            session, booking.starts_at, booking.ends_at
        ) > availability.appointment_capacity(session):
            raise Conflict(
                "The session's appointments are full: add them as a walk-in.",
                code="slot_given_away",
            )


def mark_no_show(booking: Booking, *, by: Any, now: datetime | None = None) -> Booking:
    """Record that the person did not come; only once their appointment has started."""
    now = now or timezone.now()
    if now < booking.starts_at:
        raise Conflict(
            "A booking can only be marked as not attended once its time has come.",
            code="too_early",
        )
    return move_booking(booking, Booking.Status.NOSHOW, by=by, reason="Did not attend")


@transaction.atomic
def record_visit(
    booking: Booking,
    *,
    by: Any,
    outcome: str,
    result: str = VisitOutcome.Result.NOT_APPLICABLE,
    follow_up_date: date | None = None,
    notes: str = "",
    lane: int | None = None,
) -> VisitOutcome:
    """Mark the person seen and record what was done."""
    changes: dict[str, Any] = {}
    if lane is not None and lane != booking.lane:
        _check_lane_free(booking, lane)
        changes["lane"] = lane
    seen = move_booking(booking, Booking.Status.FULFILLED, by=by, reason="Seen", **changes)
    visit = VisitOutcome(
        booking=seen,
        outcome=outcome,
        result=result,
        follow_up_date=follow_up_date,
        notes=notes,
        recorded_by=by,
    )
    visit._history_user = by
    visit.full_clean(exclude=["booking", "recorded_by"])
    visit.save()
    return visit


@transaction.atomic
def cancel_booking(
    booking: Booking,
    *,
    by: Any,
    cancelled_by: str,
    reason: str,
    offer_to_waitlist: bool = True,
) -> Booking:
    """Cancel a booking (by the patient or the service) and offer the slot to the waiting list."""
    if cancelled_by not in Booking.CancelledBy.values:
        raise DomainError(
            "Say who cancelled: the patient or the service.",
            code="invalid",
            fields={"cancelled_by": "Must be 'patient' or 'service'."},
        )
    cancelled = move_booking(
        booking,
        Booking.Status.CANCELLED,
        by=by,
        reason=f"Cancelled by the {cancelled_by}: {reason}" if reason else "Cancelled",
        cancelled_by=cancelled_by,
        cancellation_reason=reason,
    )
    reminders.booking_cancelled(cancelled)
    if offer_to_waitlist:
        from outreach.services.waitlist import offer_freed_slot

        offer_freed_slot(cancelled, by=by)
    return cancelled


@transaction.atomic
def reschedule_booking(
    booking: Booking,
    *,
    by: Any,
    session: OutreachSession | None = None,
    starts_at: datetime | None = None,
    lane: int | None = None,
    reason: str = "Rescheduled",
    now: datetime | None = None,
) -> Booking:
    """Move a booking to another slot (in the same or another session); all or nothing."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != Booking.Status.BOOKED:
        raise Conflict(
            f"Only a booked appointment can be moved; this one is {booking.get_status_display()}.",
            code="illegal_transition",
        )
    target = session or booking.session
    move_booking(
        booking,
        Booking.Status.CANCELLED,
        by=by,
        reason=reason,
        cancelled_by=Booking.CancelledBy.PATIENT,
        cancellation_reason=reason,
    )
    # The new booking gets its own reminders from book_slot; the old ones must not go.
    reminders.cancel_reminders(booking, reason="Rescheduled")
    new_booking, _ = book_slot(
        patient=booking.patient,
        session=target,
        service=booking.service_type,
        by=by,
        starts_at=starts_at,
        lane=lane,
        source=booking.source,
        notes=booking.notes,
        rescheduled_from=booking,
        now=now,
    )
    return new_booking


def mark_missed_bookings(*, now: datetime | None = None, by: Any = None) -> int:
    """Mark as not attended every booking still 'booked' a while after its session ended."""
    from clinics.services import system_user

    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.OUTREACH_AUTO_NO_SHOW_MINUTES)
    actor = by or system_user()
    missed = Booking.objects.filter(status=Booking.Status.BOOKED, session__ends_at__lte=cutoff)
    count = 0
    for booking in missed.only("pk", "status").iterator():
        try:
            move_booking(
                booking,
                Booking.Status.NOSHOW,
                by=actor,
                reason="Automatically marked as not attended after the session ended",
            )
        except Conflict:
            continue  # changed by a person meanwhile: their change stands
        count += 1
    return count
