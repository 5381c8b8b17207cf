"""Reports and a background export in a real browser, on a phone and a desktop."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.models import Patient, StaffMember
from outreach.models import Booking
from referrals.jobs.models import BackgroundJob
from referrals.jobs.runners import RUNNERS
from referrals.jobs.services import ProgressReporter, claim_job, finish_job
from referrals.tasks import run_background_job_task
from tests import factories
from tests.web.conftest import assert_accessible, click_nav

pytestmark = pytest.mark.django_db(transaction=True)

E = Patient.Ethnicity


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """No broker in these tests: the test runs the task itself, as a worker would."""
    ids: list[int] = []
    monkeypatch.setattr(
        run_background_job_task, "apply_async", lambda args, *rest, **options: ids.append(args[0])
    )
    return ids


@pytest.fixture
def coordinator(web_staff):
    organisation = factories.OrganisationFactory(name="Peterborough Homeless Health Hub")
    staff = web_staff(organisation, StaffMember.Role.COORDINATOR)
    venues = [
        factories.VenueFactory(organisation=organisation, name=name, imd_decile=decile)
        for name, decile in (("Cathedral Square", 1), ("Salvation Army hostel", 2))
    ]
    services = [
        factories.ServiceTypeFactory(name=name)
        for name in ("Health check", "Dry blood spot test", "Wound care")
    ]
    # Attended, did not attend, per service: enough that nothing is suppressed.
    plan = {services[0]: (30, 8), services[1]: (18, 12), services[2]: (9, 6)}
    ethnicities = [E.WHITE_BRITISH, E.WHITE_OTHER, E.BLACK_AFRICAN, E.NOT_STATED]
    now = timezone.now()
    bookings = []
    for index, (service, (came, missed)) in enumerate(plan.items()):
        session = factories.OutreachSessionFactory(
            organisation=organisation,
            venue=venues[index % 2],
            starts_at=now - timedelta(days=30 * (index + 1)),
        )
        statuses = [Booking.Status.FULFILLED] * came + [Booking.Status.NOSHOW] * missed
        for number, status in enumerate(statuses):
            patient = factories.PatientFactory(
                organisation=organisation, ethnicity=ethnicities[number % 4]
            )
            starts_at = session.starts_at + timedelta(minutes=number)
            bookings.append(
                Booking(
                    session=session,
                    patient=patient,
                    service_type=service,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=1),
                    status=status,
                    arrived_at=starts_at if status == Booking.Status.FULFILLED else None,
                )
            )
    Booking.objects.bulk_create(bookings)
    return staff


def test_the_uptake_report_reads_at_a_glance(
    any_page, live_server, coordinator, sign_in, screenshot, request
):
    page = any_page
    sign_in(page, coordinator)
    click_nav(page, "Reports")
    assert page.get_by_role("heading", level=1).inner_text() == "Reports"
    assert_accessible(page)

    page.get_by_role("link", name="Uptake and no-shows").click()

    chart = page.get_by_role("img", name="Uptake by service")
    assert chart.is_visible()
    assert "79% (30 of 38)" in chart.inner_html()
    # The table under the chart carries the same figures for screen readers.
    table = page.get_by_role("table", name="Uptake and no-shows by service")
    assert "Dry blood spot test" in table.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    assert_accessible(page)
    device = request.node.callspec.id
    screenshot(page, f"reports-uptake-{device}")

    page.get_by_role("link", name="Ethnic category").click()
    assert page.get_by_role("img", name="Uptake by ethnic category").is_visible()
    assert_accessible(page)


def test_a_background_export_shows_progress_then_the_download(
    any_page, live_server, coordinator, sign_in, enqueued, screenshot, request
):
    page = any_page
    sign_in(page, coordinator, next_path="/reports/uptake/")
    page.get_by_role("button", name="Prepare it in the background").click()

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Report export (CSV): Uptake and no-shows"
    )
    assert "Waiting for a worker" in page.locator("#job-progress").inner_text()
    (job_id,) = enqueued
    # A worker has started and is part of the way through.
    job = claim_job(job_id)
    ProgressReporter(job)(3, 7, "splits counted")
    page.locator("#job-progress").get_by_text("3 of 7 splits counted").wait_for()
    assert page.locator("progress").get_attribute("value") == "42"
    assert_accessible(page)
    screenshot(page, f"reports-export-progress-{request.node.callspec.id}")

    # ...and carries on to the end (the rest of what the task does after claiming the job).
    progress = ProgressReporter(job)
    finish_job(job, **RUNNERS[job.kind](job, progress))

    download_button = page.get_by_role("link", name="Download outreach-uptake")
    download_button.wait_for()
    assert_accessible(page)
    with page.expect_download() as download:
        download_button.click()
    path = download.value.path()
    with open(path, "rb") as file:
        assert file.read(3) == b"\xef\xbb\xbf"
    assert BackgroundJob.objects.get(pk=job_id).status == BackgroundJob.Status.DONE
