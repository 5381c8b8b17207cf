"""Hardening: deployment checks, security headers and CSP, and no personal data in the logs."""

import io
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from config.logging import PersonalDataFilter, redact
from outreach.models import Booking
from tests import factories
from tests.api_support import NOW, post_json

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEBUG": "false",
    "ALLOWED_HOSTS": "outreach.example.nhs.uk",
    "CSRF_TRUSTED_ORIGINS": "https://outreach.example.nhs.uk",
    "DATABASE_URL": "postgres://outreach@db.invalid:5432/outreach",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _manage(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"],
        "OUTREACH_READ_DOTENV": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **variables,
    }
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- manage.py check --deploy ------------------------------------------------------------------


@pytest.mark.parametrize(
    "variables",
    [PRODUCTION, {**PRODUCTION, "BEHIND_TLS_PROXY": "true"}],
    ids=["tls-in-django", "behind-a-tls-proxy"],
)
def test_check_deploy_reports_nothing_with_production_settings(variables):
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", **variables)

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output
    # Only axes.W006 is silenced, with the reason in settings.py.
    assert "(1 silenced)" in output


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"OUTREACH_TWO_FACTOR_ROLES": "coordinator,doctor"}, "OUTREACH_TWO_FACTOR_ROLES="),
        ({"OUTREACH_LOGIN_RATE": "lots"}, "OUTREACH_LOGIN_RATE='lots'"),
        ({"OUTREACH_TOKEN_CREATE_RATE": "10/fortnight"}, "OUTREACH_TOKEN_CREATE_RATE="),
        ({"OUTREACH_LOGIN_FAILURE_LIMIT": "0"}, "OUTREACH_LOGIN_FAILURE_LIMIT=0 is below"),
        (
            {"OUTREACH_API_TOKEN_DAYS": "60", "OUTREACH_API_TOKEN_MAX_DAYS": "30"},
            "OUTREACH_API_TOKEN_DAYS=60 is longer than OUTREACH_API_TOKEN_MAX_DAYS=30",
        ),
    ],
)
def test_a_malformed_security_setting_stops_start_up(variables, expected):
    result = _manage("check", SECRET_KEY="x", **variables)

    assert result.returncode != 0
    assert expected in result.stderr


# --- Headers -------------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    policy = _policy(client.get(reverse("login")))

    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/api/v1/service-types/", "/healthz/"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)

    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_the_api_docs_page_works_under_the_policy(nurse_client):
    response = nurse_client.get(reverse("api-docs"))

    assert response.status_code == 200
    policy = _policy(response)
    nonce = next(v for v in policy["script-src"] if v.startswith("'nonce-"))[7:-1]
    body = response.content.decode()
    # Every inline block carries this response's nonce...
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", body)
    assert inline
    assert all(f'nonce="{nonce}"' in attributes for _, attributes in inline)
    assert f"'nonce-{nonce}'" in policy["style-src"]
    # ...and every file it loads is one of our own static files, which 'self' allows.
    assets = re.findall(r'<script[^>]*\bsrc="([^"]+)"', body)
    assets += re.findall(r'<link rel="stylesheet" href="([^"]+)"', body)
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/"), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]


@pytest.mark.django_db
def test_a_fresh_nonce_for_every_response(nurse_client):
    first = _policy(nurse_client.get(reverse("api-docs")))["script-src"]
    second = _policy(nurse_client.get(reverse("api-docs")))["script-src"]

    assert first != second


def test_gunicorn_logs_the_path_without_its_query_string():
    config: dict[str, str] = {}
    exec((PROJECT_ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 (our own file)

    assert "%(U)s" in config["access_log_format"]
    assert "%(r)s" not in config["access_log_format"]  # the request line, with the query
    assert "%(q)s" not in config["access_log_format"]
    assert "%(f)s" not in config["access_log_format"]  # the referrer, with its query


# --- No personal data in the logs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /api/v1/patients/?search=Jane+Doe 200", "GET /api/v1/patients/?[query removed] 200"),
        ("send to jane.doe@example.org failed", "send to [email] failed"),
        ("Key (value)=(+447700900123) already exists", "Key (value)=([phone]) already exists"),
        ("rang 07700 900123 twice", "rang [phone] twice"),
        ("nhs number 943 476 5919 merged", "nhs number [number] merged"),
        ("booking 1234 at 2026-06-01 09:00:00 for patient 77", None),
    ],
)
def test_redact_removes_contact_details_and_query_strings(text, expected):
    assert redact(text) == (text if expected is None else expected)


def test_the_filter_redacts_arguments_and_tracebacks():
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "could not text %s", ("07700900123",), None
    )
    try:
        raise ValueError("jane@example.org")
    except ValueError:
        record.exc_info = sys.exc_info()

    PersonalDataFilter().filter(record)

    formatted = logging.Formatter().format(record)
    assert "07700900123" not in formatted
    assert "jane@example.org" not in formatted
    assert "could not text [phone]" in formatted


@pytest.fixture
def console_output():
    """What the configured console handler writes, as production would see it."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_failed_sign_in_and_a_booking_log_no_name_phone_or_email(
    clock, caplog, console_output, organisation, nurse_client
):
    caplog.set_level(logging.DEBUG)
    factories.UserFactory(username="jane.doe@example.org")
    nurse_client.post(
        reverse("login"), {"username": "jane.doe@example.org", "password": "wrong-password"}
    )
    patient = factories.PatientFactory(organisation=organisation, preferred_name="Zebedee")
    factories.ContactPointFactory(
        patient=patient, channel="sms", value="+447700900123", consent_given=True
    )
    service = factories.ServiceTypeFactory()
    session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=NOW + timedelta(days=1), booking_mode="mixed"
    )
    session.services.add(service)
    response = post_json(
        nurse_client,
        "/api/v1/bookings/",
        {"patient": patient.pk, "session": session.pk, "service": service.pk},
    )
    assert response.status_code == 201, response.content
    assert Booking.objects.filter(patient=patient).exists()
    nurse_client.get("/api/v1/patients/", {"search": "Zebedee"})
    nurse_client.get("/api/v1/no-such-thing/", {"search": "Zebedee"})

    for written in (caplog.text, console_output.getvalue()):
        assert written  # the sign-in and the 404 were logged
        for personal in ("Zebedee", "jane.doe", "example.org", "7700", "900123"):
            assert personal not in written, (personal, written)


# --- Static analysis ---------------------------------------------------------------------------


def test_bandit_finds_nothing_in_the_application_code():
    """The same bandit run as `make security`, so a finding also fails `make test`."""
    bandit = Path(sys.executable).with_name("bandit")
    result = subprocess.run(  # noqa: S603 (our own tool, fixed arguments)
        [str(bandit), "-q", "-c", "pyproject.toml", "-r", "clinics", "outreach", "referrals",
         "config"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_role_names_the_settings_accept_are_the_staff_roles():
    """settings.py cannot import models, so it lists the role names itself: keep them in step."""
    import config.settings as module
    from clinics.models import StaffMemberRole

    assert set(StaffMemberRole.values) == module._STAFF_ROLES
