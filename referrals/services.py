"""Every write to referrals goes through a function here."""

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from clinics.domain import Conflict, DomainError, move_status
from clinics.models import Organisation, Patient
from clinics.services import system_user
from outreach.models import Booking, VisitOutcome
from referrals import notifications
from referrals.models import Destination, Referral, ReferralChase, ReferralRule

# Chase outcomes that did not get an answer; enough of them and the referral is lost.
FAILED_CHASE_OUTCOMES = {
    ReferralChase.Outcome.NO_ANSWER,
    ReferralChase.Outcome.LEFT_MESSAGE,
    ReferralChase.Outcome.AWAITING,
}
# Only a referral that has left the building can be chased.
CHASEABLE = {Referral.Status.SENT, Referral.Status.ACCEPTED, Referral.Status.BOOKED}


def move_referral(
    referral: Referral,
    to: str,
    *,
    by: Any,
    reason: str,
    expected_status: str | None = None,
    **changes: Any,
) -> Referral:
    """Change a referral's status by the transition table, recording who and why.

    `expected_status` is the status the person acting saw: if someone else moved the referral
    in the meantime the move is refused (409) rather than applied on top of a state they never
    saw, such as withdrawing a referral a colleague has just recorded as accepted.
    """
    now = timezone.now()
    if to == Referral.Status.SENT:
        if not referral.consent_to_share or referral.consent_recorded_at is None:
            raise DomainError(
                "Record the person's consent to share before sending the referral.",
                code="consent_required",
            )
        changes.setdefault("sent_at", now)
        changes.setdefault("due_date", referral.compute_due_date(timezone.localdate(now)))
    elif to in (Referral.Status.ACCEPTED, Referral.Status.REJECTED):
        changes.setdefault("responded_at", now)
    elif to == Referral.Status.ATTENDED:
        changes.setdefault("attended_at", now)
    elif to in (Referral.Status.CLOSED, Referral.Status.WITHDRAWN, Referral.Status.LOST):
        changes.setdefault("closed_at", now)
    try:
        with transaction.atomic():
            if expected_status is not None:
                # Lock first so the comparison and the move see the same row.
                current = (
                    Referral.objects.select_for_update()
                    .values_list("status", flat=True)
                    .get(pk=referral.pk)
                )
                if current != expected_status:
                    raise Conflict(
                        f"The referral is now '{current}', not '{expected_status}': someone "
                        "else has changed it. Reload it and try again.",
                        code="stale_status",
                        current=current,
                        expected=expected_status,
                        allowed=sorted(Referral.NEXT_STATUSES.get(current, set())),
                    )
            return move_status(
                referral, to, table=Referral.NEXT_STATUSES, by=by, reason=reason, changes=changes
            )
    except IntegrityError as error:
        # A check constraint refused the row (a rejection without a reason, say): the data
        # would be inconsistent, which is a conflict with the rules, not a server fault.
        raise Conflict(
            "The referral cannot be saved in that state.", code="referral_inconsistent"
        ) from error


def create_referral(
    *,
    organisation: Organisation,
    patient: Patient,
    destination: Destination,
    by: Any,
    reason: str,
    consent_to_share: bool,
    consent_method: str,
    priority: str = Referral.Priority.ROUTINE,
    source_booking: Booking | None = None,
    source_outcome: VisitOutcome | None = None,
    send: bool = False,
    previous_referral: Referral | None = None,
) -> Referral:
    """Draft a referral (optionally from a booking or visit outcome) and send it if asked."""
    if not consent_to_share or not consent_method:
        raise DomainError(
            "The person must agree to their details being shared, and how they agreed "
            "(verbal, written, electronic) must be recorded.",
            code="consent_required",
            fields={"consent_to_share": "Consent to share is required."},
        )
    if not destination.is_active:
        raise DomainError(
            f"{destination.name} no longer takes referrals.",
            code="destination_inactive",
            fields={"destination": "This destination is not active."},
        )
    if source_outcome is not None:
        source_booking = source_booking or source_outcome.booking
        if source_outcome.booking_id != source_booking.pk:
            raise DomainError(
                "The visit outcome belongs to a different booking.",
                code="invalid",
                fields={"source_outcome": "Not the outcome of this booking."},
            )
    if source_booking is not None and source_booking.patient_id != patient.pk:
        raise DomainError(
            "The booking is for someone else.",
            code="invalid",
            fields={"source_booking": "Not a booking of this patient."},
        )
    now = timezone.now()
    referral = Referral(
        organisation=organisation,
        patient=patient,
        destination=destination,
        referrer=by,
        reason=reason,
        priority=priority,
        source_booking=source_booking,
        source_session=source_booking.session if source_booking else None,
        source_outcome=source_outcome,
        consent_to_share=True,
        consent_method=consent_method,
        consent_recorded_by=by,
        consent_recorded_at=now,
        previous_referral=previous_referral,
    )
    # A provisional due date so a draft sorts sensibly; sending sets the real one.
    referral.due_date = referral.compute_due_date(timezone.localdate(now))
    referral._history_user = by
    referral._change_reason = (
        f"Re-referral of #{previous_referral.pk}" if previous_referral else "Referral drafted"
    )
    with transaction.atomic():
        referral.save()
        if send:
            referral = send_referral(referral, by=by)
    return referral


def send_referral(referral: Referral, *, by: Any, expected_status: str | None = None) -> Referral:
    """Send a drafted referral: stamp the due date and tell the person what happens next."""
    with transaction.atomic():
        referral = move_referral(
            referral,
            Referral.Status.SENT,
            by=by,
            reason=f"Sent by {referral.destination.get_route_display()}",
            expected_status=expected_status,
        )
        notifications.tell_patient(referral, "sent")
    return referral


def accept_referral(
    referral: Referral, *, by: Any, notes: str = "", expected_status: str | None = None
) -> Referral:
    """Record that the destination accepted the referral."""
    with transaction.atomic():
        referral = move_referral(
            referral,
            Referral.Status.ACCEPTED,
            by=by,
            reason=notes or "Accepted by the service",
            expected_status=expected_status,
        )
        notifications.tell_patient(referral, "accepted")
    return referral


def reject_referral(
    referral: Referral,
    *,
    by: Any,
    rejection_reason: str,
    notes: str = "",
    expected_status: str | None = None,
) -> Referral:
    """Record that the destination turned the referral down, with the coded reason."""
    return move_referral(
        referral,
        Referral.Status.REJECTED,
        by=by,
        reason=f"Rejected: {Referral.RejectionReason(rejection_reason).label}",
        expected_status=expected_status,
        rejection_reason=rejection_reason,
        outcome_notes=notes,
    )


def book_referral(
    referral: Referral,
    *,
    by: Any,
    appointment_at: datetime | None = None,
    expected_status: str | None = None,
) -> Referral:
    """Record the appointment the destination booked, and tell the person."""
    with transaction.atomic():
        referral = move_referral(
            referral,
            Referral.Status.BOOKED,
            by=by,
            reason="Appointment booked by the service",
            expected_status=expected_status,
            appointment_at=appointment_at,
        )
        notifications.tell_patient(referral, "booked")
    return referral


def attend_referral(referral: Referral, *, by: Any, expected_status: str | None = None) -> Referral:
    """Record that the person went to the appointment."""
    return move_referral(
        referral,
        Referral.Status.ATTENDED,
        by=by,
        reason="Attended the appointment",
        expected_status=expected_status,
    )


def close_referral(
    referral: Referral, *, by: Any, notes: str = "", expected_status: str | None = None
) -> Referral:
    """Close the loop: the outcome came back."""
    return move_referral(
        referral,
        Referral.Status.CLOSED,
        by=by,
        reason=notes or "Outcome received; referral closed",
        expected_status=expected_status,
        outcome_notes=notes,
    )


def withdraw_referral(
    referral: Referral, *, by: Any, reason: str, expected_status: str | None = None
) -> Referral:
    """Withdraw an open referral, saying why."""
    return move_referral(
        referral,
        Referral.Status.WITHDRAWN,
        by=by,
        reason=f"Withdrawn: {reason}",
        expected_status=expected_status,
        outcome_notes=reason,
    )


def mark_lost_to_follow_up(
    referral: Referral, *, by: Any, note: str, expected_status: str | None = None
) -> Referral:
    """Give up on an open referral that nobody can trace, with a note saying why."""
    return move_referral(
        referral,
        Referral.Status.LOST,
        by=by,
        reason=f"Lost to follow-up: {note}",
        expected_status=expected_status,
        outcome_notes=note,
    )


def re_refer(
    referral: Referral,
    *,
    by: Any,
    consent_method: str,
    destination: Destination | None = None,
    reason: str = "",
    priority: str | None = None,
    send: bool = False,
) -> Referral:
    """Make a new referral for a rejected one, linked back to it."""
    if referral.status != Referral.Status.REJECTED:
        raise Conflict(
            f"Only a rejected referral can be re-referred; this one is '{referral.status}'.",
            code="not_rejected",
            current=referral.status,
        )
    return create_referral(
        organisation=referral.organisation,
        patient=referral.patient,
        destination=destination or referral.destination,
        by=by,
        reason=reason or referral.reason,
        priority=priority or referral.priority,
        consent_to_share=True,
        consent_method=consent_method,
        source_booking=referral.source_booking,
        source_outcome=referral.source_outcome,
        previous_referral=referral,
        send=send,
    )


def record_chase(
    referral: Referral,
    *,
    by: Any,
    channel: str,
    outcome: str,
    notes: str = "",
    chased_at: datetime | None = None,
) -> ReferralChase:
    """Log an attempt to find out what happened; too many failed ones and the referral is lost."""
    with transaction.atomic():
        # Lock the referral so two coordinators chasing at once count each other's attempts.
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status not in CHASEABLE:
            raise Conflict(
                f"A '{locked.status}' referral is not chased.",
                code="not_chaseable",
                current=locked.status,
            )
        chase = ReferralChase.objects.create(
            referral=locked,
            chased_by=by if getattr(by, "is_authenticated", False) else None,
            chased_at=chased_at or timezone.now(),
            channel=channel,
            outcome=outcome,
            notes=notes,
        )
        limit = settings.OUTREACH_REFERRAL_MAX_FAILED_CHASES
        failed = locked.chases.filter(outcome__in=FAILED_CHASE_OUTCOMES)
        if outcome in FAILED_CHASE_OUTCOMES and failed.count() >= limit:
            mark_lost_to_follow_up(
                locked,
                by=by,
                note=f"No answer after {limit} chases; last: {chase.get_outcome_display()}.",
            )
    return chase


def mark_overdue_referrals(*, today: date | None = None, by: Any = None) -> int:
    """Flag sent referrals past their due date; run nightly as the system user."""
    today = today or timezone.localdate()
    actor = by or system_user()
    marked = 0
    pending = Referral.objects.overdue(today).filter(overdue_since__isnull=True)
    for pk in pending.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            referral = (
                Referral.objects.select_for_update()
                .filter(pk=pk, status=Referral.Status.SENT, overdue_since__isnull=True)
                .first()
            )
            if referral is None:
                # Answered (or marked by a parallel run) since the list was read.
                continue
            referral.overdue_since = today
            referral._history_user = actor
            referral._change_reason = f"Overdue: no response by {referral.due_date:%d %b %Y}"
            referral.save()
            marked += 1
    return marked


def worklist_counts(referrals: Any, *, user: Any, now: datetime | None = None) -> dict[str, int]:
    """How many referrals are on each coordinator worklist, in one query."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    booking_before = now - timedelta(days=settings.OUTREACH_REFERRAL_BOOKING_DAYS)
    return referrals.aggregate(
        overdue=Count("pk", filter=Q(status=Referral.Status.SENT, due_date__lt=today)),
        accepted_not_booked=Count(
            "pk", filter=Q(status=Referral.Status.ACCEPTED, responded_at__lt=booking_before)
        ),
        attended_not_closed=Count("pk", filter=Q(status=Referral.Status.ATTENDED)),
        mine=Count("pk", filter=Q(status__in=Referral.OPEN_STATUSES, referrer=user)),
    )


def send_overdue_digests(*, now: datetime | None = None) -> int:
    """Write each organisation's coordinators a digest of their worklists; once a day."""
    now = now or timezone.now()
    written = 0
    organisations = Organisation.objects.filter(
        pk__in=Referral.objects.open().values("organisation")
    )
    for organisation in organisations:
        counts = worklist_counts(
            Referral.objects.filter(organisation=organisation), user=None, now=now
        )
        if not (
            counts["overdue"] or counts["accepted_not_booked"] or counts["attended_not_closed"]
        ):
            continue
        with transaction.atomic():
            written += len(
                notifications.write_digest(organisation, counts, timezone.localdate(now))
            )
    return written


def suggest_referrals(outcome: VisitOutcome) -> list[dict[str, Any]]:
    """Referrals a result suggests, by the rules table: a category and the active destinations."""
    rules = ReferralRule.objects.filter(
        is_active=True,
        service_code=outcome.booking.service_type.code,
        result=outcome.result,
    )
    suggestions = []
    for rule in rules:
        destinations = Destination.objects.filter(
            is_active=True, category=rule.destination_category
        )
        suggestions.append(
            {
                "category": rule.destination_category,
                "priority": rule.priority,
                "reason": rule.reason,
                "destinations": list(destinations),
            }
        )
    return suggestions
