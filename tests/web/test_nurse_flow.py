"""The nurse's day in a real browser, on a phone and a desktop: sign in, Today, add a walk-in,
check in, record an outcome, refer; axe-core on every page on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.models import Booking, BookingMode
from referrals.models import Destination, Referral, ReferralRule
from tests import factories
from tests.web.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def day(web_staff):
    """A session on now with the nurse on the rota, one appointment and a rule to refer by."""
    nurse = web_staff(user__first_name="Nia", user__last_name="Jones")
    organisation = nurse.organisation
    now = timezone.now()
    starts = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        name="Cathedral Square health bus",
        venue__name="Cathedral Square",
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        booking_mode=BookingMode.MIXED,
    )
    blood_spot = factories.ServiceTypeFactory(name="Dry blood spot test", code="dry-blood-spot")
    session.services.add(blood_spot)
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    appointment = factories.BookingFactory(
        session=session,
        service_type=blood_spot,
        patient__organisation=organisation,
        patient__preferred_name="Ayo",
        starts_at=starts + timedelta(hours=2),
    )
    ReferralRule.objects.get_or_create(
        service_code="dry-blood-spot",
        result="reactive",
        destination_category="hepatitis_c",
        defaults={"priority": "urgent", "reason": "Reactive blood-borne virus test"},
    )
    factories.DestinationFactory(
        name="Hepatitis C treatment service", category=Destination.Category.HEPATITIS_C
    )
    return {"nurse": nurse, "session": session, "appointment": appointment}


def test_a_nurse_adds_a_walk_in_checks_in_records_and_refers(
    any_page, live_server, sign_in, day, screenshot, request
):
    page = any_page
    size = "phone" if "phone" in request.node.callspec.id else "desktop"

    sign_in(page, day["nurse"])
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    page.get_by_text("Cathedral Square health bus").first.wait_for()
    assert_accessible(page)
    # The page's scripts ran: htmx is loaded and the NHS.UK components know JavaScript is on.
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert page.evaluate("() => document.body.classList.contains('js-enabled')")
    screenshot(page, f"today-{size}")

    # Add a walk-in: someone new, a first name only.
    page.get_by_role("link", name="Add a walk-in to Cathedral Square health bus").click()
    page.get_by_label("Their name").fill("Kez")
    page.get_by_role("button", name="Find").click()
    assert_accessible(page)
    # No one of that name yet: "Someone new" is chosen. Without a service the error summary
    # links to the field, and the name typed is kept.
    assert page.get_by_label("Someone new", exact=True).is_checked()
    page.get_by_label("Service").select_option(label="Choose a service")
    page.get_by_role("button", name="Add to the queue").click()
    assert "Choose the service they came for." in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label("Preferred name of someone new").input_value() == "Kez"
    assert_accessible(page)
    screenshot(page, f"walk-in-error-{size}")
    page.get_by_role("link", name="Choose the service they came for.").click()
    page.get_by_label("Service").select_option(label="Dry blood spot test")
    page.get_by_role("button", name="Add to the queue").click()
    assert "Kez is in the walk-in queue." in page.locator(".nhsuk-notification-banner").inner_text()
    assert "1 waiting" in " ".join(page.locator(".app-counts").inner_text().split())

    # Check in the appointment.
    page.get_by_role("button", name="Check in Ayo").click()
    page.get_by_text("Ayo is checked in.").first.wait_for()
    assert_accessible(page)

    # Record the walk-in's outcome: a reactive result.
    page.get_by_role("link", name="Record outcome for Kez").click()
    page.get_by_label("Completed", exact=True).check()
    page.get_by_label("Result", exact=True).select_option(label="Reactive")
    assert_accessible(page)
    screenshot(page, f"record-outcome-{size}")
    page.get_by_role("button", name="Save outcome").click()
    page.get_by_text("Kez is recorded as seen.").first.wait_for()
    assert_accessible(page)
    screenshot(page, f"suggested-referrals-{size}")

    # Refer in two taps: the suggestion, then send.
    page.get_by_role("link", name="Refer to Hepatitis C treatment service").click()
    assert (
        page.get_by_label("Reason for referral").input_value() == "Reactive blood-borne virus test"
    )
    assert page.get_by_label("Urgent", exact=True).is_checked()
    assert_accessible(page)
    screenshot(page, f"refer-{size}")
    page.get_by_role("button", name="Send referral").click()
    page.get_by_text("Referral to Hepatitis C treatment service sent.").first.wait_for()
    page.get_by_text("Open referrals").first.wait_for()
    assert_accessible(page)
    screenshot(page, f"person-{size}")

    referral = Referral.objects.get()
    assert referral.status == Referral.Status.SENT
    assert referral.patient.preferred_name == "Kez"
    day["appointment"].refresh_from_db()
    assert day["appointment"].status == Booking.Status.ARRIVED


def test_find_and_register_a_person_on_a_tablet(tablet_page, live_server, sign_in, day, screenshot):
    page = tablet_page
    sign_in(page, day["nurse"])

    page.get_by_role("link", name="People").first.click()
    page.get_by_label("Name").fill("Ayoo")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ayo", exact=True).wait_for()
    assert_accessible(page)
    screenshot(page, "find-a-person-tablet")

    page.get_by_role("link", name="Register Ayoo as a new person").click()
    page.get_by_label("NHS number (optional)").fill("9434765918")
    page.get_by_role("button", name="Register").click()
    assert "Check the NHS number" in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label("Preferred name").input_value() == "Ayoo"
    assert_accessible(page)
    screenshot(page, "register-error-tablet")

    page.get_by_label("NHS number (optional)").fill("")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Ayoo is registered.").first.wait_for()
    assert_accessible(page)
