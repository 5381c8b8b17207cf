"""Appointment reminders and booking news, written in the booking's own transaction.

Each reminder is an outbox row due at its own time (48 and 2 hours before, by default); the
every-minute sweep sends it. Rebuilding on a reschedule, cancelling on a cancellation and
clearing on check-in are all row updates in the same transaction, so a reminder can never
outlive the booking it is about.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from clinics.domain import IllegalTransition, move_status
from outreach import booking_sql
from outreach.messaging.clock import london
from outreach.messaging.outbox import (
    choose_contact,
    prepare_message,
    queue_message,
    queue_messages,
    render_for,
)
from outreach.messaging.rendering import render
from outreach.models import Booking, Message, MessageTemplate, OutreachSession

Purpose = MessageTemplate.Purpose


def offsets_for(booking: Booking) -> list[int]:
    """Hours before the appointment that reminders go: the service's own, else the default."""
    own = booking.service_type.reminder_offsets_hours
    return (
        sorted({int(hour) for hour in own}, reverse=True)
        if own
        else list(settings.OUTREACH_REMINDER_OFFSETS)
    )


def context_for(booking: Booking) -> dict[str, str]:
    local = booking.starts_at.astimezone(london())
    session = booking.session
    return {
        "first_name": booking.patient.preferred_name,
        "day": f"{local:%A}",
        "date": f"{local:%A} {local.day} {local:%B}",
        "time": f"{local:%H:%M}",
        "service": booking.service_type.name,
        "clinic": session.name,
        "venue": session.venue.name,
        "reason": session.cancellation_reason,
    }


def _queue_about(
    booking: Booking,
    purpose: str,
    key: str,
    *,
    send_after: datetime,
    expires_at: datetime | None,
    now: datetime,
) -> Message:
    # Sensitive services (cervical screening, blood-borne virus tests) get the discreet wording,
    # which names no service, clinic or venue, and a neutral sender.
    discreet = booking.service_type.sensitive
    point = choose_contact(booking.patient)
    channel = point.channel if point is not None else "sms"
    template, subject, body = render_for(purpose, channel, discreet=discreet)
    context = context_for(booking)
    return queue_message(
        organisation=booking.session.organisation,
        idempotency_key=key,
        purpose=purpose,
        patient=booking.patient,
        booking=booking,
        channel=channel,
        to=point.value if point is not None else "",
        subject=render(subject, context),
        body=render(body, context),
        send_after=send_after,
        expires_at=expires_at,
        discreet=discreet,
        template=template,
        now=now,
    )


def reminders_for(
    booking: Booking, *, now: datetime, booking_id: str | None = None
) -> list[Message]:
    """The booking's reminder rows, unsaved (`prepare_message` applied); offsets already past
    are skipped.

    Every reminder of a booking has the same wording and goes to the same contact point, so
    the contact points and the template are read once. The idempotency keys name the booking
    by `booking_id`, its id unless given (`booking_sql.NEW_ID` for one not yet inserted).
    """
    if booking.status != Booking.Status.BOOKED:
        return []
    due = [
        (hours, send_at)
        for hours in offsets_for(booking)
        # Booked inside a window: the person has just heard about the appointment.
        if (send_at := booking.starts_at - timedelta(hours=hours)) >= now
    ]
    if not due:
        return []
    discreet = booking.service_type.sensitive
    # Read with the patient's lock when the booking was just made; else read now.
    points = getattr(booking.patient, "known_contact_points", None)
    if points is None:
        points = booking_sql.contact_points(booking.patient_id)
    point = choose_contact(booking.patient, points=points)
    channel = point.channel if point is not None else "sms"
    template, subject, body = render_for(
        Purpose.REMINDER,
        channel,
        discreet=discreet,
        # Read with the session's lock when the booking was just made.
        known=getattr(booking.session, "known_templates", {}).get((Purpose.REMINDER, discreet)),
    )
    context = context_for(booking)
    subject, body = render(subject, context), render(body, context)
    named = str(booking.pk) if booking_id is None else booking_id
    return [
        prepare_message(
            organisation_id=booking.session.organisation_id,
            idempotency_key=f"booking:{named}:reminder:{hours}h",
            purpose=Purpose.REMINDER,
            patient=booking.patient,
            booking=booking,
            channel=channel,
            to=point.value if point is not None else "",
            subject=subject,
            body=body,
            send_after=send_at,
            expires_at=booking.starts_at,
            discreet=discreet,
            template=template,
            points=points,
            now=now,
        )
        for hours, send_at in due
    ]


def new_booking_reminders(booking: Booking, *, now: datetime) -> list[Message]:
    """The reminder rows of a booking about to be inserted, to go in with it.

    `booking_sql.insert_with_history(booking, dependents=..., link="booking",
    named=("idempotency_key",))` writes them in the booking's own statement and fills in its id;
    `enqueue_due` then hands any that are due now to a worker. A new booking can have no
    reminder yet, so no key can clash.
    """
    return reminders_for(booking, now=now, booking_id=booking_sql.NEW_ID)


def schedule_reminders(booking: Booking, *, now: datetime | None = None) -> list[Message]:
    """Write the saved booking's reminder rows in one insert; idempotent by their keys.

    This runs inside the booking's transaction, while the session row is locked: a reminder
    already written for one of the offsets is returned instead of a second one.
    """
    now = now or timezone.now()
    return queue_messages(reminders_for(booking, now=now), now=now)


def cancel_reminders(booking: Booking, *, reason: str) -> int:
    """Cancel the booking's reminders that are still waiting; returns how many."""
    count = 0
    waiting = Message.objects.filter(
        booking=booking, purpose=Purpose.REMINDER, status=Message.Status.SCHEDULED
    )
    for message in waiting:
        try:
            move_status(
                message,
                Message.Status.CANCELLED,
                table={Message.Status.SCHEDULED: {Message.Status.CANCELLED}},
                by=None,
                reason=reason,
            )
        except IllegalTransition:
            # A worker claimed it a moment ago; its send-time check sees the booking changed.
            continue
        count += 1
    return count


def clear_on_check_in(booking: Booking) -> int:
    """The person is here: no reminder about this appointment should still go."""
    return cancel_reminders(booking, reason="Checked in")


def booking_cancelled(booking: Booking, *, now: datetime | None = None) -> Message | None:
    """Cancel the reminders, and tell the patient when the service cancelled (not a move)."""
    now = now or timezone.now()
    cancel_reminders(booking, reason="Booking cancelled")
    session = OutreachSession.objects.only("status").get(pk=booking.session_id)
    if (
        booking.cancelled_by != Booking.CancelledBy.SERVICE
        or session.status == OutreachSession.Status.CANCELLED
        or booking.starts_at <= now
    ):
        # A session cancellation sends its own message; a patient knows they cancelled.
        return None
    return _queue_about(
        booking,
        Purpose.CANCELLATION,
        f"booking:{booking.pk}:cancelled",
        send_after=now,
        expires_at=booking.starts_at,
        now=now,
    )


def session_cancelled(
    session: OutreachSession, bookings: list[Booking], *, now: datetime | None = None
) -> list[Message]:
    """Tell every patient booked into a cancelled session, all at once (due now)."""
    now = now or timezone.now()
    return [
        _queue_about(
            booking,
            Purpose.SESSION_CANCELLED,
            f"booking:{booking.pk}:session-cancelled",
            send_after=now,
            expires_at=booking.starts_at,
            now=now,
        )
        for booking in bookings
        if booking.starts_at > now
    ]
