"""Thin Celery wrappers: one service call each, acting as the named system user."""

from celery import shared_task

from referrals import services


@shared_task(acks_late=True)
def mark_overdue_referrals_task() -> int:
    """Flag sent referrals past their due date (run nightly by beat)."""
    return services.mark_overdue_referrals()


@shared_task(acks_late=True)
def send_referral_digests_task() -> int:
    """Write each organisation's coordinators their daily worklist digest (run by beat)."""
    return services.send_overdue_digests()
