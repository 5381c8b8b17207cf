"""Signing in, in a real browser, on a phone and a desktop."""

import pytest

from tests.web.conftest import PASSWORD, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_password_is_summarised_and_the_username_kept(
    any_page, live_server, web_staff, screenshot, request
):
    staff = web_staff()
    page = any_page
    page.goto(f"{live_server.url}/login/")
    assert_accessible(page)

    page.get_by_label("Username").fill(staff.user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".nhsuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert "Enter a correct username and password" in summary.inner_text()
    assert page.get_by_label("Username").input_value() == staff.user.username
    assert_accessible(page)
    if "phone" in request.node.callspec.id:
        screenshot(page, "sign-in-error-phone")


def test_signing_in_shows_the_service_and_the_organisation(
    any_page, live_server, web_staff, screenshot, request
):
    staff = web_staff(role="analyst")
    page = any_page
    page.goto(f"{live_server.url}/login/")
    if "phone" in request.node.callspec.id:
        screenshot(page, "sign-in-phone")
    page.get_by_label("Username").fill(staff.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    header = page.get_by_role("banner")
    assert "Outreach" in header.inner_text()
    assert staff.organisation.name in header.inner_text()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    assert_accessible(page)
    if "desktop" in request.node.callspec.id:
        screenshot(page, "home")

    page.get_by_role("button", name="Sign out").click()
    assert "/login/" in page.url
