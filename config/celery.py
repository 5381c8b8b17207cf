"""The Celery app and the whole beat schedule.

Beat only enqueues small, idempotent sweeps. Nothing is ever scheduled hours ahead with
`eta`/`countdown`: on Redis a task left unacknowledged past the visibility timeout is
delivered again, so due work is found by polling the database instead.
"""

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("outreach")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_embedded_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem broker expects its folders to exist; create them on first use."""
    options = sender.conf.broker_transport_options or {}
    if str(sender.conf.broker_url).startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


app.conf.beat_schedule = {
    # Keep every active series' sessions created the configured number of weeks ahead.
    "fill-series-horizons": {
        "task": "outreach.tasks.fill_series_horizons_task",
        "schedule": crontab(minute=15),
    },
    # Bookings nobody checked in become no-shows a configured time after the session ends.
    "mark-missed-bookings": {
        "task": "outreach.tasks.mark_missed_bookings_task",
        "schedule": crontab(minute="*/10"),
    },
    # Sent referrals with no answer by their due date are flagged overdue, just after midnight.
    "mark-overdue-referrals": {
        "task": "referrals.tasks.mark_overdue_referrals_task",
        "schedule": crontab(hour=0, minute=30),
    },
    # Coordinators' daily digest of their referral worklists, before the working day.
    "referral-digests": {
        "task": "referrals.tasks.send_referral_digests_task",
        "schedule": crontab(hour=7, minute=30),
    },
    # Anonymise patients not seen for OUTREACH_RETENTION_YEARS, at night in batches.
    "anonymise-past-retention": {
        "task": "clinics.tasks.anonymise_past_retention_task",
        "schedule": crontab(hour=2, minute=45),
    },
    # Background jobs whose task was lost (broker down when asked, or a dead worker's job).
    "resume-stalled-jobs": {
        "task": "referrals.tasks.resume_stalled_jobs_task",
        "schedule": crontab(minute="*/5"),
    },
    # Finished background jobs (and the files they made) are kept a few days, then deleted.
    "delete-finished-jobs": {
        "task": "referrals.tasks.delete_finished_jobs_task",
        "schedule": crontab(hour=1, minute=15),
    },
    # Send every message that is due, and any an on-commit enqueue lost (Redis was down).
    "send-due-messages": {
        "task": "outreach.tasks.send_due_messages_task",
        "schedule": crontab(),
    },
}
