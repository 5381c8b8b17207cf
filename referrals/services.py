"""Every write to referrals goes through a function here."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.domain import DomainError, move_status
from referrals.models import Referral


def move_referral(referral: Referral, to: str, *, by: Any, reason: str, **changes: Any) -> Referral:
    """Change a referral's status by the transition table, recording who and why."""
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
    with transaction.atomic():
        return move_status(
            referral, to, table=Referral.NEXT_STATUSES, by=by, reason=reason, changes=changes
        )
