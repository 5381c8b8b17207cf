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


@shared_task(acks_late=True)
def run_background_job_task(job_id: int) -> str:
    """Run one long action (report export, directory import or export) and record progress.

    Safe to deliver twice: a finished job is left alone and a running one is only taken over
    once its worker's heartbeat is older than the lease.
    """
    from referrals.jobs.services import run_job

    return run_job(job_id)


@shared_task(acks_late=True)
def delete_finished_jobs_task() -> int:
    """Delete old finished jobs and the files they made (run nightly by beat)."""
    from referrals.jobs.services import delete_finished_jobs

    return delete_finished_jobs()


@shared_task(acks_late=True)
def resume_stalled_jobs_task() -> int:
    """Enqueue background jobs whose task was lost (run every five minutes by beat)."""
    from referrals.jobs.services import resume_stalled_jobs

    return resume_stalled_jobs()
