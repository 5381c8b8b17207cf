"""The Celery wiring: the beat schedule names real tasks, and both brokers deliver."""

import threading
from datetime import date, time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from config.celery import app
from outreach.models import OutreachSession
from tests.factories import SessionSeriesFactory


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()

    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names an unknown task"


def test_tasks_are_acknowledged_late_and_one_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_the_embedded_filesystem_broker_delivers_a_task_to_a_worker(tmp_path):
    """`make run` needs no broker server: a worker consumes from files on disk."""
    broker_dir = tmp_path / "broker"
    broker_dir.mkdir()
    local = Celery("embedded-check", broker="filesystem://")
    local.conf.broker_transport_options = {
        "data_folder_in": str(broker_dir),
        "data_folder_out": str(broker_dir),
        "control_folder": str(tmp_path / "control"),
    }
    local.conf.broker_connection_retry_on_startup = True
    received = []
    done = threading.Event()

    @local.task(name="embedded.echo")
    def echo(value: str) -> None:
        received.append(value)
        done.set()

    with start_worker(local, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        echo.delay("hello")
        assert done.wait(timeout=20), "the worker never received the task"

    assert received == ["hello"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_the_series_horizon_task(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    series = SessionSeriesFactory(
        weekdays=[0, 3], start_date=date(2020, 1, 6), start_time=time(10), end_time=time(14)
    )
    assert app.conf.broker_url.startswith("redis://")
    finished = threading.Event()

    def on_done(sender=None, **kwargs):
        if sender is not None and sender.name == "outreach.tasks.fill_series_horizons_task":
            finished.set()

    task_postrun.connect(on_done, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            app.send_task("outreach.tasks.fill_series_horizons_task")
            assert finished.wait(timeout=30), "the worker never ran the task"
    finally:
        task_postrun.disconnect(on_done)

    assert OutreachSession.objects.filter(series=series).count() >= 4
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
