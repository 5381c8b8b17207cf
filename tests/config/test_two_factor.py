"""Two-factor sign-in: who must use it, setting it up, codes, replays and backup codes."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics import two_factor
from clinics.models import StaffMember
from tests import factories
from tests.api_support import assert_error, current_code

pytestmark = pytest.mark.django_db

Role = StaffMember.Role
VERIFY = reverse("two-factor-verify")
SETUP = reverse("two-factor-setup")
BACKUP = reverse("two-factor-backup-codes")
PASSWORD = "correct-horse-battery"


def _sent_to_two_factor(response) -> bool:
    return response.status_code == 302 and response.url.startswith("/account/two-factor/")


def _asked_for_code(client) -> bool:
    """The home page sends the person to the code or setup page first."""
    return _sent_to_two_factor(client.get("/"))


def _let_in(client) -> bool:
    """The home page (or the role's landing page it sends them to) opens without a code."""
    response = client.get("/")
    return response.status_code in (200, 302) and not _sent_to_two_factor(response)


def _signed_in_without_two_factor(client, role=Role.COORDINATOR, *, with_app=False):
    staff = factories.StaffMemberFactory(role=role)
    client.force_login(staff.user, two_factor=False)
    device = None
    if with_app:
        device = TOTPDevice.objects.create(user=staff.user, name="Phone", confirmed=True)
    return staff.user, device


@pytest.mark.parametrize("role", [Role.NURSE, Role.HCA, Role.OUTREACH_WORKER, Role.ANALYST])
def test_clinical_staff_and_analysts_are_not_asked_for_a_code(client, role):
    _signed_in_without_two_factor(client, role)

    assert _let_in(client)
    assert client.get("/api/v1/service-types/").status_code == 200


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_coordinators_and_admins_without_an_app_are_sent_to_set_one_up(client, role):
    _signed_in_without_two_factor(client, role)

    response = client.get("/api/v1/service-types/")
    assert_error(response, 403, "two_factor_required")
    assert "Set up" in response.json()["detail"]
    page = client.get("/admin/")
    assert page.status_code == 302
    assert page["Location"] == f"{SETUP}?next=%2Fadmin%2F"


def test_a_superuser_must_use_two_factor_too(client):
    user = factories.UserFactory(is_superuser=True)
    client.force_login(user, two_factor=False)

    assert _asked_for_code(client)
    assert_error(client.get("/api/v1/service-types/"), 403, "two_factor_required")


def test_someone_with_an_app_is_asked_for_a_code_and_then_let_in(client, clock):
    _, device = _signed_in_without_two_factor(client, with_app=True)

    response = client.get("/api/v1/referrals/?status=sent")
    assert_error(response, 403, "two_factor_required")
    assert "code" in response.json()["detail"]
    assert client.get("/").url == f"{VERIFY}?next=%2F"

    before = client.session.session_key
    verified = client.post(VERIFY, {"code": current_code(device), "next": "/admin/"})

    assert verified.status_code == 302
    assert client.session.session_key != before  # a new key for the more privileged session
    assert verified.url == "/admin/"
    assert _let_in(client)
    assert client.get("/api/v1/service-types/").status_code == 200


def test_the_setting_widens_two_factor_to_other_roles(client, settings):
    settings.OUTREACH_TWO_FACTOR_ROLES = ["coordinator", "admin", "nurse"]
    _signed_in_without_two_factor(client, Role.NURSE)

    assert_error(client.get("/api/v1/service-types/"), 403, "two_factor_required")


def test_signing_in_with_a_password_leads_to_the_code_page(client):
    staff = factories.StaffMemberFactory(role=Role.COORDINATOR, user__username="coord")
    TOTPDevice.objects.create(user=staff.user, name="Phone", confirmed=True)

    response = client.post(
        reverse("login"), {"username": "coord", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1] == (f"{VERIFY}?next=%2F", 302)
    assert "Enter the code from your authenticator app" in response.content.decode()


def test_a_wrong_code_is_refused_with_a_readable_error(client, clock):
    _, device = _signed_in_without_two_factor(client, with_app=True)

    response = client.post(
        VERIFY, {"code": "000000" if current_code(device) != "000000" else "111111"}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "The code is not right" in body
    assert _asked_for_code(client)


def test_each_wrong_code_makes_the_next_try_wait(client, clock):
    _, device = _signed_in_without_two_factor(client, with_app=True)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    client.post(VERIFY, {"code": wrong})

    # Within the second after a wrong code even the right one is refused...
    assert client.post(VERIFY, {"code": current_code(device)}).status_code == 400
    clock.shift(timedelta(seconds=31))
    # ...and once the wait is over the newest code works.
    assert client.post(VERIFY, {"code": current_code(device)}).status_code == 302


def test_a_used_code_cannot_be_replayed(client, clock):
    user, device = _signed_in_without_two_factor(client, with_app=True)
    code = current_code(device)
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post(reverse("logout"))
    client.force_login(user, two_factor=False)

    clock.shift(timedelta(seconds=5))  # the same 30-second step: the same code
    assert current_code(device) == code
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 400
    assert _asked_for_code(client)


def test_setting_up_shows_a_qr_code_as_inline_svg_and_the_key_as_text(client, clock):
    user, _ = _signed_in_without_two_factor(client)

    response = client.get(SETUP)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    # No inline script (the CSP allows none); htmx and the NHS.UK script are files.
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert two_factor.app_secret(device) in body
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    # Reloading keeps the same key, so an app that already scanned it still works.
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_setup_needs_a_right_first_code(client, clock):
    user, _ = _signed_in_without_two_factor(client)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "12345"})

    assert response.status_code == 400
    assert "The code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_setup_confirms_the_app_and_shows_the_backup_codes_once(client, clock):
    user, _ = _signed_in_without_two_factor(client)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)

    response = client.post(SETUP, {"code": current_code(device), "next": "/admin/"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10
    body = response.content.decode()
    assert all(code in body for code in codes)
    assert TOTPDevice.objects.get(user=user).confirmed
    # The session is verified by the setup itself.
    assert _let_in(client)
    # The codes are not shown again.
    assert not any(code in client.get(BACKUP).content.decode() for code in codes)


def test_a_backup_code_lets_someone_in_once(client, clock):
    user, _ = _signed_in_without_two_factor(client, with_app=True)
    code = two_factor.replace_backup_codes(user)[0]

    response = client.post(VERIFY, {"code": code.upper()})

    assert response.status_code == 302
    assert _let_in(client)
    assert two_factor.backup_codes_left(user) == 9
    client.post(reverse("logout"))
    client.force_login(user, two_factor=False)
    clock.shift(timedelta(minutes=1))
    assert client.post(VERIFY, {"code": code}).status_code == 400


def test_new_backup_codes_replace_the_old_ones(client, clock):
    user, device = _signed_in_without_two_factor(client, with_app=True)
    old = two_factor.replace_backup_codes(user)
    assert client.post(BACKUP).status_code == 302  # not before the code page
    client.post(VERIFY, {"code": current_code(device)})

    response = client.post(BACKUP)

    new = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert not new & set(old)
    assert all(code in response.content.decode() for code in new)


def test_sign_out_works_before_the_code(client):
    _signed_in_without_two_factor(client, with_app=True)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get("/").url.startswith(reverse("login"))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_the_code_page_never_sends_someone_to_another_site(client, clock, target):
    _, device = _signed_in_without_two_factor(client, with_app=True)

    response = client.post(VERIFY, {"code": current_code(device), "next": target})

    assert response.url == "/"


def test_an_admin_resets_two_factor_for_a_lost_phone(client, clock):
    user, _ = _signed_in_without_two_factor(client, with_app=True)
    two_factor.replace_backup_codes(user)

    two_factor.reset_two_factor(user)

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert two_factor.backup_codes_left(user) == 0
    assert client.get("/").url == f"{SETUP}?next=%2F"


def test_the_two_factor_pages_have_no_inline_script(client, clock):
    _signed_in_without_two_factor(client, with_app=True)

    body = client.get(VERIFY).content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert 'autocomplete="one-time-code"' in body
