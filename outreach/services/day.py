"""The day itself: the walk-in queue, check-in, seen with an outcome, no-show, missed bookings."""

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinics.domain import Conflict
from outreach.messaging import reminders
from outreach.models import Booking, OutreachSession, VisitOutcome
from outreach.services.booking_rules import (
    check_lane_free,
    check_patient_free,
    check_slot_still_theirs,
)
from outreach.services.bookings import move_booking


def walk_in_queue(session: OutreachSession) -> Any:
    """Walk-ins waiting to be seen, in the order they arrived."""
    return session.bookings.filter(
        status=Booking.Status.ARRIVED, source=Booking.Source.WALK_IN
    ).order_by("arrived_at", "id")


def check_in(booking: Booking, *, by: Any, now: datetime | None = None) -> Booking:
    """Mark that the person has arrived."""
    with transaction.atomic():
        # Read the status afresh: the caller's copy may predate a no-show.
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status == Booking.Status.NOSHOW:
            check_slot_still_theirs(current)
            # They may have been booked somewhere else since they missed this one.
            check_patient_free(current.patient, current.session, current.starts_at, current.ends_at)
        arrived = move_booking(
            booking,
            Booking.Status.ARRIVED,
            by=by,
            reason="Checked in",
            arrived_at=now or timezone.now(),
        )
        reminders.clear_on_check_in(arrived)
    return arrived


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
        check_lane_free(booking, lane)
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
