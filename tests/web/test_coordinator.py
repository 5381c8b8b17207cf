"""The coordinator in a real browser: plan a series, see its sessions, close a referral.

Each flow runs on a 390 px phone and a 1280 px desktop; every page is checked with axe.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.models import ContactPoint, StaffMember
from outreach.models import Message, SessionSeries
from referrals.models import Referral
from tests import factories
from tests.web.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator(web_staff):
    return web_staff(
        role=StaffMember.Role.COORDINATOR, user__first_name="Cora", user__last_name="Ordinator"
    )


def _is_phone(request) -> bool:
    return "phone" in request.node.callspec.id


def test_a_coordinator_plans_a_series_and_sees_its_sessions(
    any_page, live_server, sign_in, coordinator, screenshot, request
):
    organisation = coordinator.organisation
    venue = factories.VenueFactory(organisation=organisation, name="Cathedral Square")
    bus = factories.MobileUnitFactory(organisation=organisation, name="Health bus 1", capacity=2)
    factories.ServiceTypeFactory(name="Health check")
    nurse = factories.StaffMemberFactory(
        organisation=organisation, user__first_name="Ada", user__last_name="Nurse"
    )
    page = any_page
    sign_in(page, coordinator, next_path="/planner/")
    assert page.get_by_role("heading", level=1).inner_text() == "Session planner"
    assert_accessible(page)

    page.get_by_role("link", name="Plan a series").click()
    assert_accessible(page)
    # Sent empty first: every problem is summarised and nothing is planned.
    page.get_by_role("button", name="Plan the series").click()
    assert "There is a problem" in page.locator(".nhsuk-error-summary").inner_text()
    assert_accessible(page)
    if _is_phone(request):
        screenshot(page, "planner-series-errors-phone")

    start = timezone.localdate() + timedelta(days=1)
    page.get_by_label("Name").fill("Cathedral Square bus stop")
    page.get_by_label("Venue").select_option(str(venue.pk))
    page.get_by_label("Mobile unit").select_option(str(bus.pk))
    page.get_by_label("Health check").check()
    page.get_by_label(f"{nurse.user.get_full_name()} (Nurse)").check()
    page.get_by_label(start.strftime("%A")).check()
    page.get_by_label("First date").fill(start.isoformat())
    page.get_by_label("Number of sessions").fill("4")
    page.get_by_label("Starts").fill("10:00")
    page.get_by_label("Ends").fill("14:00")
    page.get_by_role("button", name="Plan the series").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Cathedral Square bus stop"
    assert "Series planned: 4 sessions." in page.locator(".nhsuk-notification-banner").inner_text()
    assert page.get_by_role("heading", name="Sessions (4)").is_visible()
    assert_accessible(page)
    screenshot(page, f"planner-series-{'phone' if _is_phone(request) else 'desktop'}")
    assert SessionSeries.objects.get().sessions.count() == 4

    page.get_by_role("link", name="Back to the planner").click()
    block = page.locator(".coord-block").first
    assert "Cathedral Square bus stop" in block.inner_text()
    assert "10:00 to 14:00" in block.inner_text()
    assert_accessible(page)
    screenshot(page, f"planner-week-{'phone' if _is_phone(request) else 'desktop'}")

    page.get_by_label("Month").check()
    page.wait_for_selector(".coord-month")
    page.get_by_label("Group by").select_option("staff")
    page.wait_for_selector("#row-staff-" + str(nurse.pk))
    assert "Ada Nurse" in page.locator("#planner-body").inner_text()
    assert "view=month" in page.url
    assert "group=staff" in page.url
    assert_accessible(page)
    if not _is_phone(request):
        screenshot(page, "planner-month-by-staff-desktop")


def test_cancelling_an_occurrence_says_who_will_be_told(
    any_page, live_server, sign_in, coordinator, screenshot, request
):
    organisation = coordinator.organisation
    starts = timezone.now().replace(microsecond=0) + timedelta(days=2)
    session = factories.OutreachSessionFactory(
        organisation=organisation, name="Food bank clinic", starts_at=starts
    )
    patient = factories.PatientFactory(organisation=organisation, preferred_name="Sam")
    factories.ContactPointFactory(patient=patient, channel=ContactPoint.Channel.SMS)
    factories.BookingFactory(session=session, patient=patient, starts_at=starts)
    page = any_page
    sign_in(page, coordinator, next_path=f"/planner/sessions/{session.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Cancel this session").click()
    assert "1 booked person" in page.locator("#cancel-who-is-told").inner_text()
    assert_accessible(page)
    if not _is_phone(request):
        screenshot(page, "planner-cancel-desktop")
    page.get_by_label("Why is this session cancelled?").fill("The bus has broken down")
    page.get_by_role("button", name="Cancel the session and tell 1 person").click()
    assert (
        "1 booked person is being told." in page.locator(".nhsuk-notification-banner").inner_text()
    )
    assert Message.objects.filter(purpose="session_cancelled", patient=patient).count() == 1


def test_a_coordinator_moves_a_referral_to_closed(
    any_page, live_server, sign_in, coordinator, screenshot, request
):
    organisation = coordinator.organisation
    now = timezone.now()
    factories.ReferralFactory(
        organisation=organisation,
        patient__preferred_name="Overdue Olu",
        destination__name="Sexual health clinic",
        status=Referral.Status.SENT,
        sent_at=now - timedelta(days=30),
        due_date=timezone.localdate() - timedelta(days=5),
    )
    referral = factories.ReferralFactory(
        organisation=organisation,
        patient__preferred_name="Sam",
        destination__name="Hepatitis C treatment service",
        status=Referral.Status.ATTENDED,
        sent_at=now - timedelta(days=20),
        responded_at=now - timedelta(days=15),
        attended_at=now - timedelta(days=2),
    )
    page = any_page
    sign_in(page, coordinator, next_path="/referrals/board/")
    assert page.locator("#count-overdue").inner_text() == "1"
    assert "Overdue by 5 days" in page.locator(".coord-row--overdue").inner_text()
    assert_accessible(page)
    screenshot(page, f"referral-board-{'phone' if _is_phone(request) else 'desktop'}")

    page.get_by_role("link", name="Attended but not closed").click()
    page.wait_for_selector("text=Hepatitis C treatment service")
    assert "list=attended-not-closed" in page.url
    page.get_by_role("link", name=f"#{referral.pk}").click()
    assert_accessible(page)

    page.locator(".nhsuk-details__summary-text", has_text="Close").click()
    page.get_by_label("Notes (optional)").fill("Treatment started")
    page.locator("button[data-move='closed']").click()
    assert "Closed" in page.locator("#referral-status").inner_text()
    assert "Treatment started" in page.locator(".coord-timeline").inner_text()
    assert "Cora Ordinator" in page.locator(".coord-timeline").inner_text()
    assert_accessible(page)
    screenshot(page, f"referral-closed-{'phone' if _is_phone(request) else 'desktop'}")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CLOSED


def test_the_directory_and_the_message_log_are_accessible(
    any_page, live_server, sign_in, coordinator, screenshot, request
):
    organisation = coordinator.organisation
    destination = factories.DestinationFactory(
        name="Citizens Advice Peterborough", category="citizens_advice", area="Peterborough"
    )
    factories.DestinationFactory(name="Peterborough Sexual Health", area="Peterborough")
    factories.MessageFactory(
        organisation=organisation,
        status=Message.Status.FAILED,
        failure_detail="Not a mobile number",
    )
    factories.MessageFactory(
        organisation=organisation, status=Message.Status.SUPPRESSED, suppressed_reason="opted_out"
    )
    page = any_page
    sign_in(page, coordinator, next_path="/directory/")
    assert_accessible(page)
    page.get_by_label("Name, provider or area").fill("citizens")
    page.wait_for_selector("text=1 destination")
    screenshot(page, f"directory-{'phone' if _is_phone(request) else 'desktop'}")
    page.get_by_role("link", name="Citizens Advice Peterborough").click()
    assert_accessible(page)
    page.get_by_role("link", name=f"Edit {destination.name}").click()
    assert_accessible(page)
    page.get_by_label("Days to respond to a routine referral").fill("0")
    page.get_by_role("button", name="Save the changes").click()
    assert "There is a problem" in page.locator(".nhsuk-error-summary").inner_text()
    assert_accessible(page)

    page.goto(f"{live_server.url}/messages/")
    assert_accessible(page)
    page.get_by_label("Status").select_option("failed")
    page.wait_for_selector("text=1 message")
    screenshot(page, f"message-log-{'phone' if _is_phone(request) else 'desktop'}")
    page.get_by_role("button", name="Send again").click()
    assert "will be sent again shortly" in page.locator(".nhsuk-notification-banner").inner_text()
    assert_accessible(page)
