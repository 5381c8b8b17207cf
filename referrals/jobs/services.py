"""Every write to a background job: request it, claim it, move its progress, finish it.

A job is asked for in a request and run by `run_background_job_task` (ids in). The task may be
delivered twice (acks_late: a worker killed mid-job has its task redelivered), so running is
idempotent: a finished job is left alone, and a running one is taken over only when its
heartbeat is older than the lease, which means its worker has gone.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinics.domain import DomainError, move_status
from clinics.permissions import staff_for
from referrals import openreferral
from referrals.jobs.models import BackgroundJob

logger = logging.getLogger(__name__)

Kind = BackgroundJob.Kind
Status = BackgroundJob.Status

# Largest directory file accepted for a background import.
MAX_IMPORT_BYTES = 20 * 1024 * 1024
# Progress is written at most this often (every item would be one UPDATE per destination).
PROGRESS_EVERY_SECONDS = 0.5


class JobRefused(DomainError):
    code = "job_refused"
    status_code = 400


class JobFailure(Exception):
    """A job cannot finish for a reason the person who asked should read as it is."""


def _organisation_of(user: Any) -> Any:
    staff = staff_for(user)
    if staff is None:
        raise JobRefused(
            "Your account is not linked to an organisation, so it cannot start jobs.",
            code="no_organisation",
        )
    return staff.organisation


def _enqueue(job: BackgroundJob) -> None:
    from referrals.tasks import run_background_job_task

    run_background_job_task.delay_on_commit(job.pk)


def request_job(
    user: Any, kind: str, *, parameters: dict[str, Any] | None = None, input_data: str = ""
) -> BackgroundJob:
    """Queue a job for `user`'s organisation; a worker picks it up once this commits."""
    with transaction.atomic():
        job = BackgroundJob.objects.create(
            kind=kind,
            organisation=_organisation_of(user),
            requested_by=user,
            parameters=parameters or {},
            input_data=input_data,
        )
        _enqueue(job)
    logger.info("background job %s (%s) requested by user %s", job.pk, kind, user.pk)
    return job


def request_report_export(user: Any, *, report: str, first_day: Any, last_day: Any) -> Any:
    """Queue a CSV export of one report over a period."""
    return request_job(
        user,
        Kind.REPORT_EXPORT,
        parameters={"report": report, "from": str(first_day), "to": str(last_day)},
    )


def request_directory_export(user: Any) -> BackgroundJob:
    """Queue an Open Referral UK export of the destination directory."""
    return request_job(user, Kind.DIRECTORY_EXPORT)


def request_directory_import(user: Any, raw: bytes) -> BackgroundJob:
    """Queue an import of an Open Referral UK file; the file is kept on the job until it runs."""
    if not raw:
        raise JobRefused("Choose a file to import.", fields={"file": "Choose a file to import."})
    if len(raw) > MAX_IMPORT_BYTES:
        message = f"The file must be smaller than {MAX_IMPORT_BYTES // (1024 * 1024)} MB."
        raise JobRefused(message, fields={"file": message})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = "The file must be JSON saved as UTF-8 text."
        raise JobRefused(message, fields={"file": message}) from None
    try:
        openreferral.services_in(text)
    except openreferral.ImportFileError as error:
        raise JobRefused(error.detail, fields={"file": error.detail}) from None
    return request_job(user, Kind.DIRECTORY_IMPORT, input_data=text)


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTREACH_JOB_LEASE_SECONDS)


def claim_job(job_id: int) -> BackgroundJob | None:
    """Take the job to run it, or None if it is finished or another worker has it."""
    now = timezone.now()
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > now - lease():
            return None
        taken_over = job.status == Status.RUNNING
        job = move_status(
            job,
            Status.RUNNING,
            table=BackgroundJob.NEXT_STATUSES,
            by=None,
            reason="Taken over from a worker that stopped" if taken_over else "Started",
            changes={
                "started_at": now,
                "heartbeat_at": now,
                "progress_done": 0,
                "attempts": job.attempts + 1,
            },
        )
    return job


class ProgressReporter:
    """progress(done, total, note): written to the job row now and then, not on every item."""

    def __init__(self, job: BackgroundJob, clock: Callable[[], Any] = timezone.now) -> None:
        self.job = job
        self.clock = clock
        self.written_at: Any = None

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = self.clock()
        due = self.written_at is None or (now - self.written_at).total_seconds() >= (
            PROGRESS_EVERY_SECONDS
        )
        if not due and done < total:
            return
        self.written_at = now
        # Not a status change: only the counters of the worker's own running job move.
        BackgroundJob.objects.filter(pk=self.job.pk, status=Status.RUNNING).update(
            progress_done=min(done, total),
            progress_total=total,
            progress_note=note[:200],
            heartbeat_at=now,
        )


def finish_job(
    job: BackgroundJob,
    *,
    data: str = "",
    filename: str = "",
    content_type: str = "",
    summary: dict[str, Any] | None = None,
) -> BackgroundJob:
    """Record the result and mark the job done."""
    job.refresh_from_db(fields=["progress_total"])
    total = max(job.progress_total, 1)
    return move_status(
        job,
        Status.DONE,
        table=BackgroundJob.NEXT_STATUSES,
        by=None,
        reason="Finished",
        changes={
            "result_data": data,
            "result_filename": filename,
            "result_content_type": content_type,
            "result_summary": summary or {},
            "progress_done": total,
            "progress_total": total,
            "finished_at": timezone.now(),
            "input_data": "",
        },
    )


def fail_job(job: BackgroundJob, message: str) -> BackgroundJob:
    """Mark the job failed with a message the person who asked can act on."""
    return move_status(
        job,
        Status.FAILED,
        table=BackgroundJob.NEXT_STATUSES,
        by=None,
        reason="Failed",
        changes={"error_message": message, "finished_at": timezone.now(), "input_data": ""},
    )


def _readable(error: Exception) -> str:
    detail = getattr(error, "detail", None) or str(error)
    fields = getattr(error, "extra", {}).get("fields") or {}
    problems = [
        f"{name}: {' '.join(messages) if isinstance(messages, list) else messages}"
        for name, messages in fields.items()
    ]
    return " ".join([detail, *problems])


# A queued job not started after this long has probably lost its task (the broker was down
# when it was asked for): the sweep enqueues it again. A duplicate delivery is harmless.
STALLED_QUEUED_AFTER = timedelta(minutes=5)


def resume_stalled_jobs(*, now: Any = None) -> int:
    """Enqueue again every job whose task was lost: queued too long, or left by a dead worker."""
    from referrals.tasks import run_background_job_task

    now = now or timezone.now()
    stalled = BackgroundJob.objects.filter(
        Q(status=Status.QUEUED, created_at__lt=now - STALLED_QUEUED_AFTER)
        | Q(status=Status.RUNNING, heartbeat_at__lt=now - lease())
    ).values_list("pk", flat=True)
    ids = list(stalled)
    for job_id in ids:
        run_background_job_task.delay(job_id)
    return len(ids)


def delete_finished_jobs(*, now: Any = None) -> int:
    """Delete jobs finished more than OUTREACH_JOB_KEEP_DAYS ago, with the files they made."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OUTREACH_JOB_KEEP_DAYS)
    deleted, _ = BackgroundJob.objects.filter(
        status__in=[Status.DONE, Status.FAILED], finished_at__lt=cutoff
    ).delete()
    return deleted


def run_job(job_id: int) -> str:
    """Claim the job, run it, and finish or fail it; a repeated delivery does nothing."""
    from referrals.jobs.runners import RUNNERS

    job = claim_job(job_id)
    if job is None:
        return "skipped"
    progress = ProgressReporter(job)
    try:
        result = RUNNERS[job.kind](job, progress)
    except (JobFailure, DomainError) as error:
        fail_job(job, _readable(error))
        logger.info("background job %s failed: %s", job.pk, type(error).__name__)
        return "failed"
    except Exception:
        logger.exception("background job %s failed unexpectedly", job.pk)
        fail_job(
            job,
            "Something went wrong on our side and the job stopped. Try again; if it fails again, "
            f"tell your system administrator the job number ({job.pk}).",
        )
        return "failed"
    finish_job(job, **result)
    return "done"
