"""What each kind of job does: call the service it wraps and report progress as it goes.

Each runner takes the claimed job and a progress callback and returns the result fields for
`finish_job`, or raises JobFailure (or a DomainError) with a message for the person who asked.
Runners act as the person who asked, through the same scoped querysets as their pages.
"""

import json
from collections.abc import Callable
from typing import Any

from referrals import openreferral
from referrals.jobs.models import BackgroundJob
from referrals.jobs.services import JobFailure, ProgressReporter
from referrals.permissions import destinations_for
from referrals.reports import Period, UnknownReport, get_report
from referrals.reports.access import can_see_reports
from referrals.reports.export import csv_text, filename, report_rows


def _requester(job: BackgroundJob) -> Any:
    user = job.requested_by
    if not user.is_active:
        raise JobFailure("The account that asked for this job is no longer active.")
    return user


def export_report(job: BackgroundJob, progress: ProgressReporter) -> dict[str, Any]:
    user = _requester(job)
    if not can_see_reports(user):
        raise JobFailure("You no longer have access to reports.")
    try:
        report = get_report(job.parameters.get("report", ""))
    except UnknownReport:
        raise JobFailure("There is no such report.") from None
    period = Period.parse(job.parameters.get("from"), job.parameters.get("to"))
    splits = report.splits()
    progress(0, len(splits), "splits counted")

    def on_split(done: int, total: int) -> None:
        progress(done, total, "splits counted")

    rows = list(report_rows(report, user, period, on_split=on_split))
    return {
        "data": csv_text(rows),
        "filename": filename(report, period),
        "content_type": "text/csv; charset=utf-8",
        "summary": {"rows": len(rows) - 1, "report": report.title, "period": str(period)},
    }


def export_directory(job: BackgroundJob, progress: ProgressReporter) -> dict[str, Any]:
    user = _requester(job)
    destinations = destinations_for(user)
    page = openreferral.export_directory(
        destinations, progress=lambda done, total: progress(done, total, "services written")
    )
    return {
        "data": json.dumps(page, indent=2, ensure_ascii=False) + "\n",
        "filename": f"outreach-directory-{job.created_at:%Y-%m-%d}.json",
        "content_type": "application/json",
        "summary": {"services": page["total_items"]},
    }


def import_directory(job: BackgroundJob, progress: ProgressReporter) -> dict[str, Any]:
    user = _requester(job)
    if not (
        user.has_perm("referrals.add_destination") and user.has_perm("referrals.change_destination")
    ):
        raise JobFailure("You no longer have permission to change the directory.")
    counts = openreferral.import_directory(
        job.input_data,
        progress=lambda done, total: progress(done, total, "services checked"),
    )
    return {"summary": counts}


RUNNERS: dict[str, Callable[[BackgroundJob, ProgressReporter], dict[str, Any]]] = {
    BackgroundJob.Kind.REPORT_EXPORT: export_report,
    BackgroundJob.Kind.DIRECTORY_EXPORT: export_directory,
    BackgroundJob.Kind.DIRECTORY_IMPORT: import_directory,
}
