"""Booking people in, moving and cancelling bookings: every booking row is written here."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from clinics.domain import Conflict, DomainError, move_status
from clinics.governance import SharingRecords
from clinics.models import Patient, ServiceType
from clinics.permissions import reaches_organisation
from outreach import availability, booking_sql
from outreach.messaging import reminders
from outreach.messaging.outbox import enqueue_due
from outreach.models import Booking, BookingMode, Message, MessageTemplate, OutreachSession
from outreach.services.booking_rules import (
    check_patient,
    check_patient_free,
    check_service,
    check_session_open,
    choose_slot,
)
from outreach.services.common import busy_conflict, conflict_from, is_deadlock


def _save_new(
    booking: Booking, *, by: Any, reason: str, messages: Sequence[Message] = ()
) -> Booking:
    """Insert a booking, its history row and its new reminders (`new_booking_reminders`);
    callers hold a transaction that a refusal rolls back whole."""
    try:
        booking_sql.insert_with_history(
            booking,
            user=by,
            reason=reason,
            dependents=messages,
            link="booking",
            named=("idempotency_key",),
        )
    except IntegrityError as error:
        raise conflict_from(error) from error
    except OperationalError as error:
        # Two inserts checking one exclusion constraint can wait on each other; PostgreSQL
        # then aborts one. The row locks taken first make this rare; this makes it a 409.
        if is_deadlock(error):
            raise busy_conflict() from error
        raise
    return booking


class UnknownRecord(DomainError):
    """The request names a patient or session outside the caller's scope: a 400 on that field.

    The same answer the API's input check gives for an id it cannot find, so a client cannot
    tell whether the record was looked up before or under the lock.
    """

    code = "invalid"
    status_code = 400

    def __init__(self, field: str, pk: Any) -> None:
        super().__init__(
            "Some of the information is missing or not right: see fields.",
            fields={field: f"No such record: {pk}."},
        )


# What booking reads of the session: the slot computation's fields, the audience, and the
# reminders' wording (name, venue, cancellation reason, organisation).
_SESSION_FIELDS = (
    *availability.SESSION_FIELDS,
    "organisation",
    "audience",
    "name",
    "cancellation_reason",
    "venue",
)


def _in_scope(
    patient: Patient | None,
    session: OutreachSession | None,
    *,
    patient_id: Any,
    session_id: Any,
    for_user: Any,
) -> None:
    """Refuse a patient or session that was not found, or is outside `for_user`'s scope.

    The scopes are `sessions_for(user)` and `patients_for(user).current()`, asked of the rows
    already read: one outside them is answered as one that does not exist.
    """
    if for_user is not None:
        if session is not None and not reaches_organisation(
            for_user, session.organisation_id, person_level=False
        ):
            session = None
        if patient is not None and (
            patient.merged_into_id is not None
            or not reaches_organisation(
                for_user, patient.organisation_id, shared=SharingRecords.PATIENTS
            )
        ):
            patient = None
    if session is None:
        raise UnknownRecord("session", session_id)
    if patient is None:
        raise UnknownRecord("patient", patient_id)


def book_slot(
    *,
    patient: Patient | int,
    session: OutreachSession | int,
    service: ServiceType,
    by: Any,
    starts_at: datetime | None = None,
    lane: int | None = None,
    source: str = Booking.Source.BOOKED,
    idempotency_key: str = "",
    notes: str = "",
    rescheduled_from: Booking | None = None,
    now: datetime | None = None,
    for_user: Any = None,
) -> tuple[Booking, bool]:
    """Book `patient` into a given slot, or the session's next free one.

    Returns (booking, created). With an idempotency key, a retried request (a tablet on the bus
    that lost signal after sending) returns the booking the first request made.

    The session and the patient are read afresh under their locks, so only their ids matter:
    `session` and `patient` are the rows or their ids. With `for_user`, both must be in that
    user's scope (`sessions_for`, and `patients_for` less merged records): `UnknownRecord`
    otherwise.
    """
    now = now or timezone.now()
    patient_id = patient if isinstance(patient, int) else patient.pk
    session_id = session if isinstance(session, int) else session.pk
    if idempotency_key:
        existing = Booking.objects.filter(booked_by=by, idempotency_key=idempotency_key).first()
        if existing is not None:
            # A retry is answered as the first request was, unless what it names has gone.
            _in_scope(
                Patient.objects.only("organisation", "merged_into").filter(pk=patient_id).first(),
                OutreachSession.objects.only("organisation").filter(pk=session_id).first(),
                patient_id=patient_id,
                session_id=session_id,
                for_user=for_user,
            )
            return existing, False
    try:
        with transaction.atomic():
            # One booking at a time per session: the capacity and walk-in share checks read
            # every booking of the session, so they must not interleave. The exclusion
            # constraints still have the last word on lanes and people. The venue and the
            # reminders' templates come with it for the reminders' wording. Then the person:
            # two bookings for one person in different sessions are serialised there, before
            # either inserts (always session first, then person). With both locks held, the
            # session's bookings and those of the patient's that could clash with a slot in
            # it are read: all three in one round trip.
            locked = booking_sql.lock_for_booking(
                session_id,
                _SESSION_FIELDS,
                service.pk,
                templates=(MessageTemplate.Purpose.REMINDER, service.sensitive),
                patient_id=patient_id,
            )
            _in_scope(
                locked.patient,
                locked.session,
                patient_id=patient_id,
                session_id=session_id,
                for_user=for_user,
            )
            session, patient, known = locked.session, locked.patient, locked.bookings
            check_session_open(session)
            if session.booking_mode == BookingMode.WALK_IN:
                raise Conflict(
                    "This session is walk-in only: add the person as a walk-in on the day.",
                    code="walk_in_only",
                )
            check_service(session, service, offered=session.offers_service)
            check_patient(patient, session, service)
            slot = choose_slot(
                session, service, now=now, starts_at=starts_at, lane=lane, known=known
            )
            check_patient_free(patient, session, slot.starts_at, slot.ends_at, known=known)
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
            # Reminder rows go in with the booking, and commit or roll back with it.
            due = reminders.new_booking_reminders(booking, now=now)
            saved = _save_new(booking, by=by, reason=reason, messages=due)
            enqueue_due(due, now=now)
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
    check_session_open(session)
    if session.booking_mode == BookingMode.APPOINTMENTS:
        raise Conflict("This session is by appointment only.", code="appointments_only")
    if not session.starts_at - timedelta(hours=2) <= now < session.ends_at:
        raise Conflict("Walk-ins are added on the day, while the session is on.", code="not_on_now")
    check_service(session, service)
    check_patient(patient, session, service)
    starts_at = max(now, session.starts_at)
    # An estimate of when they will be seen; it never runs past the end of the session.
    ends_at = min(starts_at + availability.slot_span(session, service), session.ends_at)
    check_patient_free(patient, session, starts_at, ends_at)
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
