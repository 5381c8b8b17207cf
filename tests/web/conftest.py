"""Browser tests: Playwright (sync API) driving Debian's Chromium against the live server.

Chromium is the system package at /usr/bin/chromium (`apt-get install chromium`; `.ci/run`
installs it when missing): Playwright never downloads a browser. Without it these tests skip,
or fail when OUTREACH_REQUIRE_SERVICES is set, as CI sets it.

`live_server` serves the app (static files included) on a free port of 127.0.0.1 in a thread of
this process, over a transactional database: data made in a test is committed, so the server
sees it, and is flushed afterwards. The clock is not frozen here: the browser keeps real time,
and a session cookie set at a frozen date would already have expired for it.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import Organisation, StaffMember
from clinics.two_factor import two_factor_required
from tests import factories
from tests.api_support import current_code
from tests.conftest import _missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"  # the factories' test password


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing("Chromium", f"install it with `apt-get install chromium` ({CHROMIUM} is missing)")
    # Playwright's sync API keeps an event loop on this thread between calls, which Django
    # takes for async code and refuses database access from; the tests use the ORM only
    # between browser calls, never concurrently with them.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[Any]:
    yield from _page(browser, PHONE)


@pytest.fixture
def tablet_page(browser, live_server) -> Iterator[Any]:
    yield from _page(browser, TABLET)


@pytest.fixture
def desktop_page(browser, live_server) -> Iterator[Any]:
    yield from _page(browser, DESKTOP)


@pytest.fixture(params=["phone", "desktop"])
def any_page(request, browser, live_server) -> Iterator[Any]:
    """The test runs twice: on a 390 px phone and on a 1280 px desktop."""
    yield from _page(browser, PHONE if request.param == "phone" else DESKTOP)


@pytest.fixture
def web_staff(transactional_db) -> Callable[..., StaffMember]:
    """Make a member of staff (in their role's group) who can sign in with PASSWORD."""

    def make(
        organisation: Organisation | None = None, role: str = StaffMember.Role.NURSE, **kwargs: Any
    ) -> StaffMember:
        staff = factories.StaffMemberFactory(
            organisation=organisation or factories.OrganisationFactory(), role=role, **kwargs
        )
        staff.user.groups.add(Group.objects.get(name=staff.group_name))
        return staff

    return make


@pytest.fixture
def sign_in(live_server) -> Callable[[Any, StaffMember], None]:
    """Sign `staff` in through the sign-in page, as a person would.

    Coordinators and admins then type the code their authenticator app shows (two-factor is
    required for their roles); the app is one already set up, as it would be after the first day.
    """

    def do(page: Any, staff: StaffMember, *, next_path: str = "/") -> None:
        device = None
        if two_factor_required(staff.user):
            device, _ = TOTPDevice.objects.get_or_create(
                user=staff.user, confirmed=True, defaults={"name": "Authenticator app"}
            )
        page.goto(f"{live_server.url}/login/?next={next_path}")
        page.get_by_label("Username").fill(staff.user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "/login/" not in page.url, "sign-in failed"
        if device is not None:
            assert "/account/two-factor/" in page.url, page.url
            page.get_by_label("Code").fill(current_code(device))
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state()
            assert "/account/two-factor/" not in page.url, "the two-factor code was refused"

    return do


def click_nav(page: Any, label: str) -> None:
    """Follow a link in the header's navigation, opening its "More" menu first on a narrow
    screen, where the NHS.UK header moves the items that do not fit into that menu."""
    link = page.locator(".nhsuk-header__navigation").get_by_role("link", name=label).first
    if not link.is_visible():
        page.get_by_role("button", name="Browse More").click()
        link = page.locator(".nhsuk-header__navigation").get_by_role("link", name=label).first
    link.click()


_axe = Axe()


def assert_accessible(page: Any) -> None:
    """Run axe-core on the page: no serious or critical WCAG 2.2 A/AA violation."""
    results = _axe.run(
        page,
        options={
            "resultTypes": ["violations"],
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
            },
        },
    )
    bad = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} - "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"{page.url}:\n" + "\n".join(bad)


@pytest.fixture
def screenshot(request) -> Callable[[Any, str], None]:
    """Save a full-page screenshot to docs/screenshots/NAME.png when run with --screenshots."""

    def take(page: Any, name: str) -> None:
        if request.config.getoption("--screenshots"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
