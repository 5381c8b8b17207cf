"""The Celery app and the whole beat schedule.

Beat only enqueues small, idempotent sweeps. Nothing is ever scheduled hours ahead with
`eta`/`countdown`: on Redis a task left unacknowledged past the visibility timeout is
delivered again, so due work is found by polling the database instead.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("outreach")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Keep every active series' sessions created the configured number of weeks ahead.
    "fill-series-horizons": {
        "task": "outreach.tasks.fill_series_horizons_task",
        "schedule": crontab(minute=15),
    },
}
