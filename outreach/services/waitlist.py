"""The waiting list: a slot a cancellation frees is offered to the first person waiting."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinics.domain import Conflict, move_status
from outreach.models import Booking, WaitlistEntry


@transaction.atomic
def join_waitlist(
    *,
    organisation: Any,
    patient: Any,
    service: Any,
    by: Any,
    venue: Any = None,
    not_before: Any = None,
    not_after: Any = None,
    notes: str = "",
) -> WaitlistEntry:
    """Put a person on the waiting list for a service (at a venue, or anywhere)."""
    open_entry = WaitlistEntry.objects.filter(
        patient=patient,
        service_type=service,
        venue=venue,
        status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED],
    ).first()
    if open_entry is not None:
        raise Conflict(
            "This person is already waiting for this service there.", code="already_waiting"
        )
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(
                organisation=organisation,
                patient=patient,
                service_type=service,
                venue=venue,
                not_before=not_before,
                not_after=not_after,
                notes=notes,
            )
    except IntegrityError:
        raise Conflict(
            "This person is already waiting for this service there.", code="already_waiting"
        ) from None


def leave_waitlist(entry: WaitlistEntry, *, by: Any) -> WaitlistEntry:
    """Take a person off the waiting list."""
    return move_status(
        entry,
        WaitlistEntry.Status.WITHDRAWN,
        table=WaitlistEntry.NEXT_STATUSES,
        by=by,
        reason="Withdrawn from the waiting list",
    )


def matching_entries(booking: Booking) -> Any:
    """Open entries this freed slot would suit, first come first served."""
    day = timezone.localdate(booking.starts_at)
    return (
        WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.WAITING,
            service_type_id=booking.service_type_id,
            organisation_id=booking.session.organisation_id,
        )
        .filter(Q(venue__isnull=True) | Q(venue_id=booking.session.venue_id))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=day))
        .filter(Q(not_after__isnull=True) | Q(not_after__gte=day))
        .exclude(patient_id=booking.patient_id)
        .order_by("created_at", "id")
    )


@transaction.atomic
def offer_freed_slot(
    booking: Booking, *, by: Any, passed_over: WaitlistEntry | None = None
) -> WaitlistEntry | None:
    """Offer the slot `booking` freed to the first matching waiting-list entry, if any."""
    if booking.starts_at <= timezone.now():
        return None
    candidates = matching_entries(booking)
    if passed_over is not None:
        candidates = candidates.exclude(pk=passed_over.pk)
    # skip_locked: an entry being offered another slot right now is passed over, not waited on.
    entry = candidates.select_for_update(skip_locked=True).first()
    if entry is None:
        return None
    return move_status(
        entry,
        WaitlistEntry.Status.OFFERED,
        table=WaitlistEntry.NEXT_STATUSES,
        by=by,
        reason="Offered a cancelled slot",
        changes={"offered_booking": booking, "offered_at": timezone.now()},
    )


@transaction.atomic
def accept_offer(entry: WaitlistEntry, *, by: Any) -> Booking:
    """Book the offered slot for the person waiting, if it is still free."""
    from outreach.services.bookings import book_slot

    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitlistEntry.Status.OFFERED or entry.offered_booking is None:
        raise Conflict("There is no open offer on this entry.", code="no_offer")
    freed = entry.offered_booking
    booking, _ = book_slot(
        patient=entry.patient,
        session=freed.session,
        service=entry.service_type,
        by=by,
        starts_at=freed.starts_at,
        notes="Booked from the waiting list",
    )
    move_status(
        entry,
        WaitlistEntry.Status.BOOKED,
        table=WaitlistEntry.NEXT_STATUSES,
        by=by,
        reason="Booked the offered slot",
    )
    return booking


@transaction.atomic
def decline_offer(entry: WaitlistEntry, *, by: Any) -> WaitlistEntry:
    """Put the person back in the queue and pass the slot to the next one waiting."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    freed = entry.offered_booking
    back = move_status(
        entry,
        WaitlistEntry.Status.WAITING,
        table=WaitlistEntry.NEXT_STATUSES,
        by=by,
        reason="Declined the offer",
        changes={"offered_booking": None, "offered_at": None},
    )
    if freed is not None:
        offer_freed_slot(freed, by=by, passed_over=back)
    return back
