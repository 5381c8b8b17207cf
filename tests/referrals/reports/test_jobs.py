"""Background jobs: queued on commit, run by the task (ids in), progress, failure, download."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from referrals.jobs import services as jobs
from referrals.jobs.models import BackgroundJob
from referrals.models import Destination
from referrals.tasks import delete_finished_jobs_task, run_background_job_task
from tests import factories
from tests.api_support import assert_error, post_json

pytestmark = pytest.mark.django_db

Status = BackgroundJob.Status
DIRECTORY = Path(__file__).resolve().parents[1] / "data" / "oruk_directory.json"


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """Record the job ids enqueued on commit instead of publishing them to a broker."""
    ids: list[int] = []
    monkeypatch.setattr(
        run_background_job_task, "apply_async", lambda args, *rest, **options: ids.append(args[0])
    )
    return ids


def start_export(client, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, "/api/v1/jobs/report-export/", {"report": "uptake", **body})
    return response


def test_a_report_export_is_queued_on_commit_then_run_by_the_task(
    clock, coordinator_client, enqueued, django_capture_on_commit_callbacks
):
    response = start_export(
        coordinator_client, django_capture_on_commit_callbacks, **{"from": "2026-01-01"}
    )

    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert (job["status"], job["kind"], job["download_url"]) == ("queued", "report_export", None)
    assert job["parameters"] == {"report": "uptake", "from": "2026-01-01", "to": "2026-06-01"}
    assert enqueued == [job["id"]]

    assert run_background_job_task(job["id"]) == "done"

    done = coordinator_client.get(f"/api/v1/jobs/{job['id']}/").json()
    assert done["status"] == "done"
    assert done["percent"] == 100
    assert done["progress_done"] == done["progress_total"] == 7  # one step per split
    assert done["finished_at"] == "2026-06-01T09:00:00+01:00"
    download = coordinator_client.get(done["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        'attachment; filename="outreach-uptake-2026-01-01-to-2026-06-01.csv"'
    )
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeffReport,From,To,Split,Group,Appointments booked")
    assert "Uptake and no-shows,2026-01-01,2026-06-01,All,All,0,0,0,0,0,,\r\n" in text


def test_progress_is_visible_while_the_job_runs(clock, coordinator, enqueued, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_SECONDS", 0)
    job = jobs.request_report_export(
        coordinator.user, report="referrals", first_day="2026-01-01", last_day="2026-06-01"
    )
    seen = []
    original = jobs.ProgressReporter.__call__

    def watch(self, done, total, note=""):
        original(self, done, total, note)
        row = BackgroundJob.objects.get(pk=job.pk)
        seen.append((row.status, row.progress_done, row.progress_total, row.percent))

    monkeypatch.setattr(jobs.ProgressReporter, "__call__", watch)

    run_background_job_task(job.pk)

    assert seen[0] == (Status.RUNNING, 0, 6, 0)
    assert seen[3] == (Status.RUNNING, 3, 6, 50)
    assert seen[-1] == (Status.RUNNING, 6, 6, 100)


def test_progress_is_written_at_most_twice_a_second(clock, coordinator, enqueued):
    job = jobs.request_directory_export(coordinator.user)
    job = jobs.claim_job(job.pk)
    progress = jobs.ProgressReporter(job)

    progress(1, 10)
    progress(2, 10)
    assert BackgroundJob.objects.get(pk=job.pk).progress_done == 1
    clock.shift(timedelta(seconds=1))
    progress(3, 10)
    assert BackgroundJob.objects.get(pk=job.pk).progress_done == 3
    progress(10, 10)  # the last step is always written
    assert BackgroundJob.objects.get(pk=job.pk).progress_done == 10


def test_running_the_task_again_changes_nothing(clock, coordinator, enqueued):
    job = jobs.request_report_export(
        coordinator.user, report="uptake", first_day="2026-01-01", last_day="2026-06-01"
    )
    run_background_job_task(job.pk)
    first = BackgroundJob.objects.get(pk=job.pk)

    clock.shift(timedelta(hours=1))
    assert run_background_job_task(job.pk) == "skipped"

    again = BackgroundJob.objects.get(pk=job.pk)
    assert (again.finished_at, again.attempts, again.result_data) == (
        first.finished_at,
        1,
        first.result_data,
    )


def test_a_job_left_running_by_a_dead_worker_is_taken_over_after_the_lease(
    clock, coordinator, enqueued, settings
):
    settings.OUTREACH_JOB_LEASE_SECONDS = 600
    job = jobs.request_directory_export(coordinator.user)
    assert jobs.claim_job(job.pk) is not None  # a worker took it, then died

    clock.shift(timedelta(seconds=599))
    assert run_background_job_task(job.pk) == "skipped"  # it may still be working
    clock.shift(timedelta(seconds=2))
    assert run_background_job_task(job.pk) == "done"

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Status.DONE, 2)


def test_a_directory_import_reports_progress_and_imports(
    clock, coordinator, client_for, enqueued, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/jobs/directory-import/",
            DIRECTORY.read_bytes(),
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]

    run_background_job_task(job_id)

    job = client.get(f"/api/v1/jobs/{job_id}/").json()
    services = len(json.loads(DIRECTORY.read_text())["contents"])
    assert job["status"] == "done"
    assert job["result_summary"] == {"created": services, "updated": 0}
    assert (job["progress_done"], job["progress_total"]) == (services, services)
    assert job["download_url"] is None
    assert Destination.objects.count() == services
    assert BackgroundJob.objects.get(pk=job_id).input_data == ""  # the upload is not kept


def test_a_malformed_import_fails_with_a_readable_message_and_changes_nothing(
    clock, coordinator, enqueued
):
    job = jobs.request_directory_import(coordinator.user, b'{"contents": [{"name": ""}]}')

    assert run_background_job_task(job.pk) == "failed"

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message == "Service 1 has no name."
    assert job.finished_at is not None
    assert Destination.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [b"[null, null]", b'"contents"', b"42", b'{"contents": "none"}', b"not json"],
    ids=["list-of-nulls", "string", "number", "contents-not-a-list", "not-json"],
)
def test_a_file_that_is_not_a_directory_is_refused_before_a_job_is_queued(
    clock, coordinator, client_for, enqueued, django_capture_on_commit_callbacks, body
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(coordinator).post(
            "/api/v1/jobs/directory-import/", body, content_type="application/json"
        )
    error = assert_error(response, 400, "job_refused")
    assert error["fields"]["file"]
    assert BackgroundJob.objects.count() == 0
    assert enqueued == []


def test_a_bare_list_of_services_is_queued(
    clock, coordinator, client_for, enqueued, django_capture_on_commit_callbacks
):
    services = json.loads(DIRECTORY.read_text())["contents"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client_for(coordinator), "/api/v1/jobs/directory-import/", services)
    assert response.status_code == 202, response.content
    assert run_background_job_task(response.json()["id"]) == "done"
    assert Destination.objects.count() == len(services)


def test_a_job_id_that_is_not_a_number_is_not_found(clock, coordinator_client):
    assert_error(coordinator_client.get("/api/v1/jobs/null,null/"), 404, "not_found")
    assert_error(coordinator_client.get("/api/v1/jobs/null,null/download/"), 404, "not_found")


def test_an_unexpected_error_fails_the_job_with_its_number(
    clock, coordinator, enqueued, monkeypatch
):
    from referrals.jobs import runners

    def broken(job, progress):
        raise RuntimeError("database on fire")

    monkeypatch.setitem(runners.RUNNERS, BackgroundJob.Kind.DIRECTORY_EXPORT, broken)
    job = jobs.request_directory_export(coordinator.user)

    run_background_job_task(job.pk)

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "Something went wrong" in job.error_message
    assert f"({job.pk})" in job.error_message
    assert "fire" not in job.error_message


def test_a_report_export_for_someone_who_lost_access_fails(clock, coordinator, enqueued):
    job = jobs.request_report_export(
        coordinator.user, report="uptake", first_day="2026-01-01", last_day="2026-06-01"
    )
    coordinator.user.groups.clear()

    run_background_job_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error_message) == (
        Status.FAILED,
        "You no longer have access to reports.",
    )


def test_another_organisations_job_is_not_found(
    clock, coordinator, make_staff, client_for, enqueued
):
    job = jobs.request_report_export(
        coordinator.user, report="uptake", first_day="2026-01-01", last_day="2026-06-01"
    )
    run_background_job_task(job.pk)
    stranger = make_staff(factories.OrganisationFactory(), "coordinator")
    client = client_for(stranger)

    assert_error(client.get(f"/api/v1/jobs/{job.pk}/"), 404, "not_found")
    assert_error(client.get(f"/api/v1/jobs/{job.pk}/download/"), 404, "not_found")
    assert client.get("/api/v1/jobs/").json()["results"] == []


def test_a_nurse_cannot_start_or_see_report_exports(
    clock, coordinator, nurse_client, enqueued, django_capture_on_commit_callbacks
):
    jobs.request_report_export(
        coordinator.user, report="uptake", first_day="2026-01-01", last_day="2026-06-01"
    )

    assert_error(
        start_export(nurse_client, django_capture_on_commit_callbacks), 403, "permission_denied"
    )
    assert_error(post_json(nurse_client, "/api/v1/jobs/directory-import/", {}), 403)
    assert nurse_client.get("/api/v1/jobs/").json()["results"] == []
    # The directory is for everyone: a nurse may export it.
    assert post_json(nurse_client, "/api/v1/jobs/directory-export/").status_code == 202


def test_an_unfinished_job_has_nothing_to_download(
    clock, coordinator, coordinator_client, enqueued
):
    job = jobs.request_directory_export(coordinator.user)

    assert_error(
        coordinator_client.get(f"/api/v1/jobs/{job.pk}/download/"), 409, "job_not_finished"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [({"report": "nothing"}, "report"), ({"report": "uptake", "from": "2026-13-01"}, "from")],
)
def test_a_bad_export_request_gets_field_errors(coordinator_client, enqueued, body, field):
    body = assert_error(post_json(coordinator_client, "/api/v1/jobs/report-export/", body), 400)
    assert field in body["fields"]


@pytest.mark.parametrize("body", [b"", "caf\xe9".encode("latin-1")])
def test_an_empty_or_undecodable_import_is_refused_before_queueing(
    coordinator_client, enqueued, body
):
    response = coordinator_client.post(
        "/api/v1/jobs/directory-import/", body, content_type="application/json"
    )

    assert "file" in assert_error(response, 400, "job_refused")["fields"]
    assert not BackgroundJob.objects.exists()
    assert enqueued == []


def test_finished_jobs_are_deleted_after_the_keeping_period(clock, coordinator, enqueued, settings):
    settings.OUTREACH_JOB_KEEP_DAYS = 7
    old = jobs.request_directory_export(coordinator.user)
    run_background_job_task(old.pk)
    clock.shift(timedelta(days=6))
    recent = jobs.request_directory_export(coordinator.user)
    run_background_job_task(recent.pk)
    waiting = jobs.request_directory_export(coordinator.user)

    clock.shift(timedelta(days=1, seconds=1))
    assert delete_finished_jobs_task() == 1

    assert set(BackgroundJob.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_a_report_export(organisation, make_staff):
    import time

    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    coordinator = make_staff(organisation, "coordinator")
    assert app.conf.broker_url.startswith("redis://")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # Committed at once (no test transaction), so the on-commit enqueue reaches Redis.
        job = jobs.request_report_export(
            coordinator.user, report="screening", first_day="2026-01-01", last_day="2026-06-30"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.1)

    assert job.status == Status.DONE, job.error_message
    assert job.result_filename == "outreach-screening-2026-01-01-to-2026-06-30.csv"
    assert job.result_data.startswith("\ufeffReport,From,To,Split,Group,Eligible people seen")


def test_the_sweep_enqueues_jobs_whose_task_was_lost(clock, coordinator, enqueued, settings):
    settings.OUTREACH_JOB_LEASE_SECONDS = 600
    lost = jobs.request_directory_export(coordinator.user)
    abandoned = jobs.request_directory_export(coordinator.user)
    jobs.claim_job(abandoned.pk)
    clock.shift(timedelta(minutes=4))
    fresh = jobs.request_directory_export(coordinator.user)
    enqueued.clear()

    assert jobs.resume_stalled_jobs() == 0
    clock.shift(timedelta(minutes=2))
    assert jobs.resume_stalled_jobs() == 1
    assert enqueued == [lost.pk]
    # Past the lease the dead worker's job is enqueued too, and a job done is left alone.
    clock.shift(timedelta(minutes=5))
    run_background_job_task(lost.pk)
    enqueued.clear()
    assert jobs.resume_stalled_jobs() == 2
    assert sorted(enqueued) == sorted([abandoned.pk, fresh.pk])


def test_an_import_whose_destination_appears_meanwhile_changes_nothing():
    from referrals import openreferral

    raw = json.dumps({"contents": [{"name": "Food bank", "service_areas": [{"name": "Wigan"}]}]})

    def someone_else_adds_it(done, total):
        factories.DestinationFactory(name="Food bank", area="Wigan")

    with pytest.raises(openreferral.ImportFileError, match="changed while the file was being"):
        openreferral.import_directory(raw, progress=someone_else_adds_it)

    assert Destination.objects.count() == 1
