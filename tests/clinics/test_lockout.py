"""Login lockout (django-axes) and the per-address sign-in throttle."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from clinics.models import ApiToken
from tests import factories
from tests.api_support import assert_error, post_json

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    cache.clear()


def _sign_in(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_repeated_wrong_passwords_lock_the_username_with_a_readable_message(client, clock):
    factories.UserFactory(username="sam")
    for _ in range(2):
        assert _sign_in(client, "sam", "wrong").status_code == 200

    locked = _sign_in(client, "sam", "wrong")

    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Your account is locked" in body
    assert "Try again in 15 minutes" in body
    assert 'value="sam"' in body
    assert locked["Retry-After"] == "900"
    # Even the right password is refused while locked.
    assert _sign_in(client, "sam", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_lifts_after_the_cool_off(client, clock):
    factories.UserFactory(username="sam")
    for _ in range(3):
        _sign_in(client, "sam", "wrong")

    clock.shift(timedelta(minutes=16))
    response = _sign_in(client, "sam", PASSWORD)

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="sam").exists()


def test_one_persons_lockout_does_not_lock_out_a_colleague_on_the_same_network(client, clock):
    factories.UserFactory(username="sam")
    factories.UserFactory(username="alex")
    for _ in range(3):
        _sign_in(client, "sam", "wrong")

    assert _sign_in(client, "alex", PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_from_the_user_list(client, clock, admin_client):
    sam = factories.UserFactory(username="sam")
    for _ in range(3):
        _sign_in(client, "sam", "wrong")

    admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [sam.pk]},
    )

    assert _sign_in(client, "sam", PASSWORD).status_code == 302


def test_an_admin_resets_two_factor_from_the_user_list(admin_client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    coordinator = factories.StaffMemberFactory(role="coordinator").user
    TOTPDevice.objects.create(user=coordinator, name="Lost phone", confirmed=True)

    admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [coordinator.pk]},
    )

    assert not TOTPDevice.objects.filter(user=coordinator).exists()


def test_wrong_passwords_when_making_a_token_count_and_lock_out_in_json(clock, nurse_client):
    for _ in range(2):
        wrong = post_json(nurse_client, "/api/v1/tokens/", {"name": "x", "password": "wrong"})
        assert_error(wrong, 400, "invalid")

    response = post_json(nurse_client, "/api/v1/tokens/", {"name": "x", "password": "wrong"})

    body = assert_error(response, 429, "locked_out")
    assert "locked" in body["detail"]
    assert response["Retry-After"] == "900"
    right = post_json(nurse_client, "/api/v1/tokens/", {"name": "x", "password": PASSWORD})
    assert_error(right, 429, "locked_out")
    assert not ApiToken.objects.exists()


def test_sign_in_attempts_from_one_address_are_throttled(client, clock, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {**SimpleRateThrottle.THROTTLE_RATES, "login": "2/minute"},
    )
    factories.UserFactory(username="sam")
    factories.UserFactory(username="alex")
    _sign_in(client, "sam", "wrong")
    _sign_in(client, "alex", "wrong")

    response = _sign_in(client, "alex", PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many sign-in attempts from your network" in body
    assert 'value="alex"' in body
    assert int(response["Retry-After"]) > 0
    # The throttled attempt was never checked, so it does not count towards alex's lockout.
    assert AccessAttempt.objects.get(username="alex").failures_since_start == 1
    clock.shift(timedelta(minutes=1))
    assert _sign_in(client, "alex", PASSWORD).status_code == 302


def test_the_admin_signs_in_through_the_same_throttled_page(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert f'action="{LOGIN}"' in response.content.decode()


def test_the_lockout_log_names_no_username(client, clock, caplog):
    factories.UserFactory(username="jane.smith")
    for _ in range(3):
        _sign_in(client, "jane.smith", "wrong")
    _sign_in(client, "nobody.known", "wrong")

    assert "AXES" in caplog.text
    assert "jane.smith" not in caplog.text
    assert "nobody.known" not in caplog.text


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Short1!pass", "too short"),
        ("password1234", "too common"),
        ("729384756102", "entirely numeric"),
        ("samwise12345", "too similar"),
    ],
)
def test_weak_staff_passwords_are_refused(password, why):
    user = factories.UserFactory(username="samwise", first_name="Samwise", last_name="Gamgee")

    with pytest.raises(ValidationError, match=why):
        validate_password(password, user)


def test_a_long_passphrase_is_accepted():
    user = factories.UserFactory(username="samwise")

    validate_password("bus stops at the food bank on mondays", user)
