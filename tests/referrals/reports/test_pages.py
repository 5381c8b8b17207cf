"""The report and job pages, server side: who may see them, what they show, the CSV."""

import csv
import io

import pytest

from outreach.models import Booking
from referrals.jobs import services as jobs
from referrals.jobs.models import BackgroundJob
from referrals.tasks import run_background_job_task
from tests import factories
from tests.referrals.reports.conftest import london

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(
        run_background_job_task, "apply_async", lambda args, *rest, **options: ids.append(args[0])
    )
    return ids


@pytest.fixture
def bookings(organisation, book):
    venue = factories.VenueFactory(organisation=organisation, name='=HYPERLINK("x")', imd_decile=3)
    check = factories.ServiceTypeFactory(name="Health check")
    session = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=london(2026, 3, 10, 10)
    )
    for _ in range(12):
        book(session, check, Booking.Status.FULFILLED)
    for _ in range(6):
        book(session, check, Booking.Status.NOSHOW)
    book(session, factories.ServiceTypeFactory(name="Eye test"), Booking.Status.FULFILLED)


def test_a_coordinator_sees_charts_and_the_table(bookings, coordinator_client):
    response = coordinator_client.get("/reports/uptake/", {**PERIOD, "by": "service"})

    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="app-chart__svg"' in html
    assert 'role="img"' in html
    assert '<title id="chart-uptake-service-uptake_rate-title">Uptake by service</title>' in html
    assert "67% (12 of 18)" in html  # the value is written on its bar
    assert "suppressed: fewer than 5" in html  # the eye test's one appointment
    assert '<table class="nhsuk-table-responsive" id="table-uptake-service">' in html
    assert "<script" not in html.split("</head>")[1].replace(
        '<script src="/static/outreach/js-enabled.js"></script>', ""
    )
    assert 'href="/reports/uptake/export.csv?from=2026-01-01&amp;to=2026-06-30"' in html


@pytest.mark.parametrize("name", ["uptake", "referrals", "screening"])
def test_every_report_page_answers_for_an_analyst(name, analyst, client_for, clock):
    client = client_for(analyst)

    assert client.get(f"/reports/{name}/").status_code == 200
    for split in ("ethnicity", "sex", "housing", "deprivation"):
        assert client.get(f"/reports/{name}/", {"by": split}).status_code == 200


def test_the_overview_shows_each_reports_headline(bookings, coordinator_client):
    response = coordinator_client.get("/reports/", PERIOD)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Uptake and no-shows" in html
    assert "Cervical screening coverage" in html
    assert "68%" in html  # 13 of 19 kept their appointment


def test_a_nurse_may_not_see_reports(nurse_client):
    assert nurse_client.get("/reports/").status_code == 403
    assert nurse_client.get("/reports/uptake/").status_code == 403
    assert nurse_client.get("/reports/uptake/export.csv").status_code == 403


def test_an_unknown_report_is_not_found(coordinator_client):
    assert coordinator_client.get("/reports/nothing/").status_code == 404


def test_wrong_dates_are_explained_and_kept(coordinator_client):
    response = coordinator_client.get(
        "/reports/uptake/",
        {"start_0": "31", "start_1": "2", "start_2": "2026", "end_0": "", "end_1": "", "end_2": ""},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "From must be a real date." in html
    assert 'value="31"' in html
    assert "app-chart__svg" not in html


def test_an_end_before_the_start_is_explained(coordinator_client):
    response = coordinator_client.get(
        "/reports/uptake/",
        {
            "start_0": "1",
            "start_1": "6",
            "start_2": "2026",
            "end_0": "1",
            "end_1": "1",
            "end_2": "2026",
        },
    )

    assert "The end date must be the same as or after the start date." in response.content.decode()


def test_the_dates_typed_in_the_form_choose_the_period(bookings, coordinator_client):
    response = coordinator_client.get(
        "/reports/uptake/",
        {
            "start_0": "1",
            "start_1": "4",
            "start_2": "2026",
            "end_0": "30",
            "end_1": "4",
            "end_2": "2026",
        },
    )

    html = response.content.decode()
    assert "1 April 2026 to 30 April 2026" in html
    assert "67%" not in html  # the March clinic is outside


def test_the_csv_is_streamed_with_a_bom_headers_and_safe_cells(bookings, coordinator_client):
    response = coordinator_client.get("/reports/uptake/export.csv", PERIOD)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="outreach-uptake-2026-01-01-to-2026-06-30.csv"'
    )
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "Report", "From", "To", "Split", "Group", "Appointments booked", "Attended",
        "Did not attend", "Not yet due", "Walk-ins seen", "Uptake (%)", "No-show rate (%)",
    ]  # fmt: skip
    assert rows[1] == [
        "Uptake and no-shows", "2026-01-01", "2026-06-30", "All", "All",
        "19", "13", "6", "0", "0", "68.4", "31.6",
    ]  # fmt: skip
    by = {(row[3], row[4]): row[5:] for row in rows[1:]}
    assert by[("Service", "Eye test")] == ["<5", "<5", "0", "0", "0", "suppressed", "suppressed"]
    assert by[("Service", "Health check")][:3] == ["18", "12", "6"]
    # A venue named like a formula is written so a spreadsheet shows it as text.
    assert by[("Venue", '\'=HYPERLINK("x")')][0] == "19"
    assert {row[3] for row in rows[1:]} == {
        "All", "Service", "Venue", "Month", "Deprivation decile (IMD) of the venue",
        "Ethnic category", "Housing status", "Sex",
    }  # fmt: skip


def test_starting_an_export_shows_its_progress_then_the_download(
    bookings, coordinator_client, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post("/reports/uptake/export/", PERIOD)
    job = BackgroundJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert enqueued == [job.pk]

    page = coordinator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert f'hx-get="/jobs/{job.pk}/progress/"' in page
    assert "Waiting for a worker to start it" in page

    run_background_job_task(job.pk)

    fragment = coordinator_client.get(f"/jobs/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html
    assert "hx-trigger" not in html  # finished: the polling stops
    assert "Download outreach-uptake-2026-01-01-to-2026-06-30.csv" in html
    download = coordinator_client.get(f"/jobs/{job.pk}/download/")
    assert download.content.startswith(b"\xef\xbb\xbfReport,From,To")


def test_a_running_job_shows_how_far_it_has_got(coordinator, coordinator_client, enqueued):
    job = jobs.request_directory_export(coordinator.user)
    job = jobs.claim_job(job.pk)
    jobs.ProgressReporter(job)(3, 12, "services written")

    html = coordinator_client.get(f"/jobs/{job.pk}/progress/").content.decode()

    assert "Running" in html
    assert "3 of 12 services written" in html
    assert '<progress class="app-progress" id="job-progress-bar" max="100" value="25">' in html


def test_a_failed_job_says_why_in_a_sentence(coordinator, coordinator_client, enqueued):
    # A file that is not JSON is refused before it is queued; a service without a name is
    # found only when the job reads the services.
    job = jobs.request_directory_import(coordinator.user, b'{"contents": [{"name": ""}]}')
    run_background_job_task(job.pk)

    html = coordinator_client.get(f"/jobs/{job.pk}/").content.decode()

    assert "The job did not finish" in html
    assert "Service 1 has no name." in html


def test_another_organisations_job_pages_are_not_found(
    coordinator, make_staff, client_for, enqueued
):
    job = jobs.request_directory_export(coordinator.user)
    run_background_job_task(job.pk)
    stranger = client_for(make_staff(factories.OrganisationFactory(), "coordinator"))

    for path in ("", "progress/", "download/"):
        assert stranger.get(f"/jobs/{job.pk}/{path}").status_code == 404


def test_a_directory_import_from_the_page(coordinator_client, enqueued):
    from django.core.files.uploadedfile import SimpleUploadedFile

    empty = coordinator_client.post("/jobs/directory-import/", {})
    assert empty.status_code == 400
    assert "There is a problem" in empty.content.decode()

    upload = SimpleUploadedFile("directory.json", b'{"contents": []}', "application/json")
    response = coordinator_client.post("/jobs/directory-import/", {"file": upload})
    job = BackgroundJob.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == BackgroundJob.Kind.DIRECTORY_IMPORT


def test_the_jobs_page_lists_the_organisations_jobs(coordinator, coordinator_client, enqueued):
    jobs.request_directory_export(coordinator.user)

    html = coordinator_client.get("/jobs/").content.decode()

    assert "Directory export (Open Referral UK)" in html
    assert "Import the file" in html


def test_the_navigation_offers_reports_to_those_who_may_see_them(
    coordinator_client, nurse_client, analyst, client_for
):
    assert 'href="/reports/"' in coordinator_client.get("/jobs/").content.decode()
    assert 'href="/reports/"' in client_for(analyst).get("/jobs/").content.decode()
    assert 'href="/reports/"' not in nurse_client.get("/jobs/").content.decode()


def test_an_account_without_an_organisation_is_told_it_cannot_start_jobs(client):
    admin = factories.UserFactory(is_superuser=True)
    client.force_login(admin)

    response = client.post("/jobs/directory-export/")

    assert response.status_code == 400
    assert "not linked to an organisation" in response.content.decode()
