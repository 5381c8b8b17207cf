"""The rules a booking must pass, checked under the session's lock before any insert.

They make the same checks the database constraints make, so SQLite gives the same answers as
PostgreSQL; on PostgreSQL the exclusion constraints and row locks still have the last word.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinics.domain import Conflict, DomainError
from clinics.models import Patient, ServiceType
from outreach import availability, booking_sql
from outreach.models import Audience, Booking, OutreachSession

_AUDIENCE_SEX = {Audience.WOMEN: Patient.Sex.FEMALE, Audience.MEN: Patient.Sex.MALE}


def check_patient(patient: Patient, session: OutreachSession, service: ServiceType) -> None:
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


def offers(service: ServiceType) -> Exists:
    return Exists(
        OutreachSession.services.through.objects.filter(
            outreachsession_id=OuterRef("pk"), servicetype_id=service.pk
        )
    )


def check_service(
    session: OutreachSession, service: ServiceType, *, offered: bool | None = None
) -> None:
    if offered is None:
        offered = session.services.filter(pk=service.pk).exists()
    if not offered:
        message = f"{service.name} is not offered at this session."
        raise DomainError(message, code="service_not_offered", fields={"service": message})


def check_session_open(session: OutreachSession) -> None:
    if session.status not in availability.BOOKABLE_SESSION_STATUSES:
        raise Conflict(
            f"This session is {session.get_status_display().lower()}: it takes no bookings.",
            code="session_closed",
        )


def patient_clashes_in(
    bookings: Iterable[availability.PatientBooking],
    session_id: int,
    starts_at: datetime,
    ends_at: datetime,
) -> list[int]:
    """What `booking_sql.patient_clashes` finds, asked of bookings already read.

    The sessions of up to two of them: any in the same session, or a booked or arrived one
    overlapping the time (`bookings` are active ones).
    """
    live = (Booking.Status.BOOKED, Booking.Status.ARRIVED)
    return [
        booking.session_id
        for booking in bookings
        if booking.session_id == session_id
        or (booking.status in live and booking.starts_at < ends_at and booking.ends_at > starts_at)
    ][:2]


def check_patient_free(
    patient: Patient,
    session: OutreachSession,
    starts_at: datetime,
    ends_at: datetime,
    *,
    known: availability.SessionBookings | None = None,
) -> None:
    """The same checks the constraints make, so SQLite gives the same answers as PostgreSQL.

    `known` is the session's bookings read with the patient's (`session_bookings(patient_id=)`),
    under both locks; without them the patient's bookings are read now.
    """
    if known is not None and known.patient_bookings is not None:
        clashes = patient_clashes_in(known.patient_bookings, session.pk, starts_at, ends_at)
    else:
        clashes = booking_sql.patient_clashes(patient.pk, session.pk, starts_at, ends_at)
    if session.pk in clashes:
        raise Conflict("This person is already booked into this session.", code="already_booked")
    if clashes:
        raise Conflict(
            "This person already has a booking at that time.", code="patient_double_booked"
        )


def choose_slot(
    session: OutreachSession,
    service: ServiceType,
    *,
    now: datetime,
    starts_at: datetime | None,
    lane: int | None,
    known: availability.SessionBookings | None = None,
) -> availability.Slot:
    """The slot to book: the one asked for, or the session's next free one.

    `known` is the session's bookings when the caller has read them under its lock.
    """
    if lane is not None and not 1 <= lane <= session.lanes:
        raise DomainError(
            f"This session has lanes 1 to {session.lanes}.",
            code="invalid",
            fields={"lane": f"Choose a lane from 1 to {session.lanes}."},
        )
    if starts_at is None and lane is not None:
        raise DomainError(
            "Give the time as well as the lane, or neither for the next free slot.",
            code="invalid",
            fields={"starts_at": "Required when a lane is given."},
        )
    if starts_at is None:
        # Under the session's lock: its bookings cannot change until the booking commits.
        known = booking_sql.session_bookings(session.pk) if known is None else known
        slots = availability.free_slots(
            [session], service, now=now, limit=1, offered=True, known=known
        )
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
    known = booking_sql.session_bookings(session.pk) if known is None else known
    slot = availability.slot_at(session, service, starts_at, now=now, known=known)
    if slot is None:
        raise Conflict("That slot is not free.", code="lane_taken")
    if lane is None:
        return slot
    lanes_free = availability.free_lanes(
        known.overlapping(starts_at, starts_at + span),
        session.lanes,
        starts_at,
        starts_at + span,
    )
    if lane not in lanes_free:
        raise Conflict(f"Lane {lane} is not free at that time.", code="lane_taken")
    return availability.Slot(session.pk, starts_at, starts_at + span, lane, len(lanes_free))


def check_lane_free(booking: Booking, lane: int) -> None:
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


def check_slot_still_theirs(booking: Booking) -> None:
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
