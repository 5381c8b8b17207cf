"""API tokens: made once from a signed-in session, stored hashed, refused when expired,
revoked or belonging to a deactivated user, and revocable by their owner or an admin."""

import hashlib
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.oath import totp
from rest_framework.throttling import SimpleRateThrottle

from clinics import tokens
from clinics.models import ApiToken, StaffMember
from tests import factories
from tests.api_support import NOW, assert_error, complete_two_factor, post_json

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"
PASSWORD = "correct-horse-battery"


def _bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _new(user, **kwargs) -> tokens.NewToken:
    return tokens.create_api_token(user, name="Rota sync", **kwargs)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache, which outlives a test."""
    cache.clear()


def test_a_nurse_makes_a_token_with_her_password_and_sees_it_once(clock, nurse, nurse_client):
    response = post_json(nurse_client, TOKENS, {"name": "Rota sync", "password": PASSWORD})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith(body["prefix"] + "_")
    assert _at(body["expires_at"]) == NOW + timedelta(days=30)  # the default
    assert body["status"] == "active"
    stored = ApiToken.objects.get(pk=body["id"])
    # otk_<key id>_<secret>; the secret itself may contain "_".
    secret = body["token"].split("_", 2)[2]
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=stored.pk).values().get())
    # Listed afterwards without the secret.
    listed = nurse_client.get(TOKENS).json()["results"]
    assert [row["id"] for row in listed] == [stored.pk]
    assert "token" not in listed[0]


def test_the_token_works_as_a_bearer_without_a_session(clock, nurse, client):
    new = _new(nurse.user)
    factories.PatientFactory(organisation=nurse.organisation, preferred_name="Jo")

    response = client.get("/api/v1/patients/", **_bearer(new.secret))

    assert response.status_code == 200
    assert [p["preferred_name"] for p in response.json()["results"]] == ["Jo"]


@pytest.mark.parametrize(("password", "code"), [("", "invalid"), ("not-my-password", "invalid")])
def test_a_token_needs_the_password_again(nurse_client, password, code):
    body = assert_error(
        post_json(nurse_client, TOKENS, {"name": "Sync", "password": password}), 400, code
    )
    assert "password" in body["fields"]
    assert not ApiToken.objects.exists()


def test_a_token_cannot_make_another_token(clock, nurse, client):
    new = _new(nurse.user)

    response = post_json(
        client, TOKENS, {"name": "Forever", "password": PASSWORD}, **_bearer(new.secret)
    )

    assert_error(response, 403, "session_required")
    assert ApiToken.objects.count() == 1


def test_a_coordinator_can_use_a_fresh_authenticator_code_instead(clock, coordinator_client):
    app = _session_device(coordinator_client)
    code = f"{totp(app.bin_key):06d}"

    response = post_json(coordinator_client, TOKENS, {"name": "Reports", "otp_code": code})

    assert response.status_code == 201, response.content
    # The same code is refused a second time.
    again = post_json(coordinator_client, TOKENS, {"name": "Reports", "otp_code": code})
    assert_error(again, 400, "invalid")


def _session_device(client):
    """The authenticator app that verified the client's session."""
    return Device.from_persistent_id(client.session[DEVICE_ID_SESSION_KEY])


def test_a_coordinator_without_two_factor_cannot_make_a_token(coordinator, client):
    client.force_login(coordinator.user, two_factor=False)

    response = post_json(client, TOKENS, {"name": "Sync", "password": PASSWORD})

    assert_error(response, 403, "two_factor_required")
    assert not ApiToken.objects.exists()


def test_a_token_lasts_no_longer_than_the_maximum(clock, nurse_client, settings):
    settings.OUTREACH_API_TOKEN_MAX_DAYS = 90
    too_long = {"name": "Sync", "password": PASSWORD, "expires_in_days": 91}
    assert_error(post_json(nurse_client, TOKENS, too_long), 400, "invalid")

    ok = post_json(nurse_client, TOKENS, {**too_long, "expires_in_days": 90})
    assert _at(ok.json()["expires_at"]) == NOW + timedelta(days=90)


def test_the_service_refuses_a_lifetime_beyond_the_setting(nurse, settings):
    settings.OUTREACH_API_TOKEN_MAX_DAYS = 7
    with pytest.raises(tokens.DomainError):
        _new(nurse.user, days=8)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer nonsense", "token_invalid"),
        ("Bearer otk_abc", "token_invalid"),
        ("Bearer otk_000000000000_wrongsecret", "token_invalid"),
        ("Bearer ", "token_invalid"),
    ],
)
def test_a_malformed_or_unknown_token_is_a_401(client, header, code):
    response = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=header)

    body = assert_error(response, 401, code)
    assert body["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_for_a_real_key_is_refused(clock, nurse, client):
    new = _new(nurse.user)
    forged = new.secret[:-4] + ("AAAA" if not new.secret.endswith("AAAA") else "BBBB")

    assert_error(client.get("/api/v1/patients/", **_bearer(forged)), 401, "token_invalid")


def test_an_expired_token_is_refused(clock, nurse, client):
    new = _new(nurse.user, days=1)
    assert client.get("/api/v1/patients/", **_bearer(new.secret)).status_code == 200

    clock.shift(timedelta(days=1))

    assert_error(client.get("/api/v1/patients/", **_bearer(new.secret)), 401, "token_expired")


def test_a_revoked_token_is_refused_at_once(clock, nurse, nurse_client, client):
    new = _new(nurse.user)

    response = post_json(nurse_client, f"{TOKENS}{new.token.pk}/revoke/")

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["revoked_by"] == nurse.user.username
    assert_error(client.get("/api/v1/patients/", **_bearer(new.secret)), 401, "token_revoked")


@pytest.mark.parametrize("what", ["user", "staff"])
def test_a_deactivated_persons_token_stops_working(clock, nurse, client, what):
    new = _new(nurse.user)
    record = nurse.user if what == "user" else nurse
    record.is_active = False
    record.save()

    response = client.get("/api/v1/patients/", **_bearer(new.secret))

    assert_error(response, 401, "token_user_inactive")


def test_last_used_is_written_at_most_once_a_minute(clock, nurse, client):
    new = _new(nurse.user)
    client.get("/api/v1/service-types/", **_bearer(new.secret))
    new.token.refresh_from_db()
    assert new.token.last_used_at == NOW

    clock.shift(timedelta(seconds=30))
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/service-types/", **_bearer(new.secret))
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    new.token.refresh_from_db()
    assert new.token.last_used_at == NOW

    clock.shift(timedelta(seconds=31))
    client.get("/api/v1/service-types/", **_bearer(new.secret))
    new.token.refresh_from_db()
    assert new.token.last_used_at == NOW + timedelta(seconds=61)


def test_checking_a_token_costs_one_query(clock, nurse):
    new = _new(nurse.user)
    tokens.authenticate_token(new.secret)  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as queries:
        token = tokens.authenticate_token(new.secret)
        assert token.user.staff.organisation_id == nurse.organisation_id

    assert len(queries) == 1


def test_a_nurse_sees_and_revokes_only_her_own_tokens(clock, organisation, make_staff, client_for):
    me = make_staff(organisation)
    colleague = make_staff(organisation)
    mine, theirs = _new(me.user), _new(colleague.user)
    client = client_for(me)

    listed = client.get(TOKENS).json()["results"]

    assert [row["id"] for row in listed] == [mine.token.pk]
    assert_error(post_json(client, f"{TOKENS}{theirs.token.pk}/revoke/"), 404)
    theirs.token.refresh_from_db()
    assert theirs.token.revoked_at is None


def test_an_admin_revokes_a_token_of_their_organisation_only(
    clock, organisation, make_staff, client_for
):
    admin = make_staff(organisation, StaffMember.Role.ADMIN)
    nurse = make_staff(organisation)
    outsider = make_staff(factories.OrganisationFactory())
    ours, other = _new(nurse.user), _new(outsider.user)
    client = client_for(admin)

    assert {row["id"] for row in client.get(TOKENS).json()["results"]} == {ours.token.pk}
    assert post_json(client, f"{TOKENS}{ours.token.pk}/revoke/").status_code == 200
    assert_error(post_json(client, f"{TOKENS}{other.token.pk}/revoke/"), 404)
    ours.token.refresh_from_db()
    assert ours.token.revoked_by == admin.user


def test_revoking_twice_keeps_the_first_revocation(clock, nurse, nurse_client):
    new = _new(nurse.user)
    post_json(nurse_client, f"{TOKENS}{new.token.pk}/revoke/")
    first = ApiToken.objects.get(pk=new.token.pk).revoked_at

    clock.shift(timedelta(minutes=5))
    post_json(nurse_client, f"{TOKENS}{new.token.pk}/revoke/")

    assert ApiToken.objects.get(pk=new.token.pk).revoked_at == first


def test_making_tokens_is_throttled(clock, nurse_client, monkeypatch):
    # DRF reads the rates once, into the class: set the class's copy.
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "token-create": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    for _ in range(2):
        post_json(nurse_client, TOKENS, {"name": "Sync", "password": PASSWORD})

    response = post_json(nurse_client, TOKENS, {"name": "Sync", "password": PASSWORD})

    assert_error(response, 429, "throttled")
    assert ApiToken.objects.count() == 2


def test_an_anonymous_call_is_a_401_naming_the_bearer_scheme(client):
    response = client.get(TOKENS)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_command_prints_a_working_token_once(clock, nurse, client):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", nurse.user.username, "--name", "Rota", "--days", "7",
        stdout=out, stderr=err,
    )  # fmt: skip

    secret = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.expires_at == NOW + timedelta(days=7)
    assert token.prefix in err.getvalue()
    assert client.get("/api/v1/service-types/", **_bearer(secret)).status_code == 200


def test_the_command_refuses_an_unknown_or_deactivated_user(nurse):
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", "--name", "x")
    nurse.user.is_active = False
    nurse.user.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_token", nurse.user.username, "--name", "x")


def test_an_admin_revokes_tokens_in_the_admin(clock, organisation, make_staff, client_for):
    admin = make_staff(organisation, StaffMember.Role.ADMIN, user__is_staff=True)
    nurse = make_staff(organisation)
    new = _new(nurse.user)
    client = client_for(admin)

    page = client.get("/admin/clinics/apitoken/")
    assert page.status_code == 200
    assert new.token.prefix in page.content.decode()
    assert new.secret not in page.content.decode()
    client.post(
        "/admin/clinics/apitoken/",
        {"action": "revoke", "_selected_action": [new.token.pk]},
    )

    new.token.refresh_from_db()
    assert new.token.revoked_by == admin.user


def test_complete_two_factor_helper_lets_a_coordinator_call_the_api(coordinator, client):
    client.force_login(coordinator.user, two_factor=False)
    assert_error(client.get(TOKENS), 403, "two_factor_required")

    complete_two_factor(client, coordinator.user)

    assert client.get(TOKENS).status_code == 200


def test_a_secret_containing_underscores_still_works(clock, nurse, monkeypatch):
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda size: "a_b-c_" + "x" * 37)
    new = _new(nurse.user)

    assert tokens.authenticate_token(new.secret).pk == new.token.pk
