"""Texts patients send back: C or YES confirms, X or CANCEL cancels, STOP opts out.

Anything else is kept for a coordinator to read. A repeated callback (same provider id) is
ignored, so Notify retrying a callback never cancels or confirms twice.
"""

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinics.domain import Conflict, DomainError
from clinics.models import ContactPoint
from clinics.validators import normalise_mobile
from outreach.models import Booking, InboundMessage, Message

Action = InboundMessage.Action
CONFIRM_WORDS = {"C", "YES", "Y", "CONFIRM"}
CANCEL_WORDS = {"X", "CANCEL"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE"}


def _keyword(text: str) -> str:
    words = text.strip().upper().replace(".", " ").replace("!", " ").split()
    return words[0] if len(words) == 1 else ""


def _latest_booking_message(number: str) -> Message | None:
    """The last text we sent this number about a booking: the one a reply answers."""
    return (
        Message.objects.filter(
            channel=ContactPoint.Channel.SMS,
            to=number,
            booking__isnull=False,
            status__in=[Message.Status.SENT, Message.Status.DELIVERED],
        )
        .select_related("booking", "patient")
        .order_by("-sent_at", "-id")
        .first()
    )


def receive_text(payload: Mapping[str, Any]) -> InboundMessage:
    """Record an inbound text and act on C, X or STOP; idempotent by the provider's id."""
    from clinics.services import system_user
    from outreach.services.bookings import cancel_booking
    from outreach.services.confirmations import confirm_booking

    provider_id = str(payload.get("id") or "")
    existing = InboundMessage.objects.filter(provider_id=provider_id).first()
    if existing is not None:
        return existing
    raw_number = str(payload.get("source_number") or "")
    try:
        number = normalise_mobile(raw_number)
    except Exception:  # a number we cannot read is still a reply a person should see
        number = raw_number
    body = str(payload.get("message") or "")
    received = parse_datetime(str(payload.get("date_received") or "")) or timezone.now()
    if timezone.is_naive(received):
        # Notify sends UTC; a time without an offset must not be compared as if it had one.
        received = timezone.make_aware(received, UTC)
    keyword = _keyword(body)
    sent = _latest_booking_message(number)
    booking = sent.booking if sent else None
    patient = sent.patient if sent else None
    action = Action.UNKNOWN
    note = ""
    if booking is None and keyword in CONFIRM_WORDS | CANCEL_WORDS:
        note = "No appointment text was sent to this number, so there is nothing to act on."
    with transaction.atomic():
        if keyword in STOP_WORDS:
            ContactPoint.objects.filter(
                channel=ContactPoint.Channel.SMS, value=number, opted_out_at__isnull=True
            ).update(opted_out_at=received)
            # Texts already waiting are suppressed now, not at send time, so staff see why.
            Message.objects.filter(
                channel=ContactPoint.Channel.SMS, to=number, status=Message.Status.SCHEDULED
            ).update(
                status=Message.Status.SUPPRESSED,
                suppressed_reason=Message.SuppressedReason.OPTED_OUT,
            )
            action = Action.OPTED_OUT
        elif keyword in CONFIRM_WORDS and booking:
            try:
                confirm_booking(booking, by=system_user(), now=received)
                action = Action.CONFIRMED
            except DomainError as refused:
                # Cancelled or past: nothing to confirm; a coordinator sees the reply and why.
                note = refused.detail
        elif keyword in CANCEL_WORDS and booking and booking.status != Booking.Status.BOOKED:
            note = f"Not cancelled: this appointment is {booking.get_status_display().lower()}."
        elif keyword in CANCEL_WORDS and booking:
            try:
                cancel_booking(
                    booking,
                    by=system_user(),
                    cancelled_by=Booking.CancelledBy.PATIENT,
                    reason="The patient replied X by text",
                )
                action = Action.CANCELLED
            except DomainError as refused:
                note = refused.detail
        try:
            with transaction.atomic():
                return InboundMessage.objects.create(
                    organisation=sent.organisation if sent else None,
                    provider_id=provider_id,
                    from_number=number[:32],
                    body=body,
                    received_at=received,
                    patient=patient,
                    booking=booking,
                    action=action,
                    note=note[:300],
                    handled=action != Action.UNKNOWN,
                )
        except IntegrityError:
            # The same callback delivered twice at once: the other one acted; undo ours.
            transaction.set_rollback(True)
    return InboundMessage.objects.get(provider_id=provider_id)


@transaction.atomic
def mark_reply_handled(reply: InboundMessage, *, by: Any) -> InboundMessage:
    """A coordinator has dealt with a reply: record who and when.

    The row is locked so two coordinators clicking at once get one success and one conflict,
    and the first one's name stays on it.
    """
    locked = InboundMessage.objects.select_for_update().get(pk=reply.pk)
    if locked.handled:
        raise Conflict("This reply has already been dealt with.", code="already_handled")
    locked.handled = True
    locked.handled_at = timezone.now()
    locked.handled_by = by
    locked.save(update_fields=["handled", "handled_at", "handled_by"])
    return locked
