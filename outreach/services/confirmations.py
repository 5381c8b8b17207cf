"""A patient saying they are coming: recorded on the booking, with history."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.domain import Conflict
from outreach.models import Booking

CONFIRMED_BY_TEXT = "Confirmed by text reply"


class ConfirmationRefused(Conflict):
    """The booking can no longer be confirmed: it was cancelled, or its time has passed."""

    code = "confirmation_refused"


def confirm_booking(
    booking: Booking,
    *,
    by: Any,
    via: str = Booking.ConfirmedVia.TEXT_REPLY,
    reason: str = CONFIRMED_BY_TEXT,
    now: datetime | None = None,
) -> Booking:
    """Record that the patient confirmed the appointment; a repeat keeps the first confirmation.

    Only an appointment still booked and still ahead can be confirmed: a "yes" to a booking
    cancelled meanwhile (by the service, or by the patient's own earlier "X") or already past
    is refused with `ConfirmationRefused`, whose sentence a coordinator can read.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so a confirmation and a cancellation arriving together are serialised: a
        # cancelled booking is never marked confirmed after the fact.
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != Booking.Status.BOOKED:
            raise ConfirmationRefused(
                f"Not confirmed: this appointment is {locked.get_status_display().lower()}."
            )
        if locked.starts_at <= now:
            raise ConfirmationRefused("Not confirmed: this appointment's time has passed.")
        if locked.confirmed_at is not None:
            return locked
        locked.confirmed_at = now
        locked.confirmed_via = via
        if by is not None and getattr(by, "is_authenticated", False):
            locked._history_user = by
        locked._change_reason = reason
        locked.save()
    return locked
