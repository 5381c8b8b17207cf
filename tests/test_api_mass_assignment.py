"""Read-only fields sent by a client are ignored or refused, on every write endpoint.

The cases come from the OpenAPI schema the code generates: for each POST and PATCH, every
field of the answer that the request does not accept (`id`, `status`, `organisation`,
`created_by`, timestamps...) is sent with a value the server would never choose. The same valid
request is first made without them (and rolled back) as the baseline: with them, the answer
must be the same (the fields were ignored) or a 400 naming them (refused). A new write endpoint
or serializer is covered without being listed, except that it needs a valid body in `BODIES`.
"""

import json
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from outreach.models import Booking, Message, OutreachSession, WaitlistEntry
from referrals.models import Referral
from tests.api_routes import Endpoint, api_endpoints
from tests.api_support import NOW, TwoFactorClient, iso
from tests.api_world import World

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # the factories' test password
Body = Callable[[SimpleNamespace, SimpleNamespace], dict[str, Any]]


def _move_referral(status: str, **fields: Any) -> Callable[[SimpleNamespace], None]:
    def prepare(records: SimpleNamespace) -> None:
        Referral.objects.filter(pk=records.referral.pk).update(status=status, **fields)

    return prepare


# A valid body for each write endpoint that takes one, from the "own" records and the shared.
BODIES: dict[str, Body] = {
    "POST /api/v1/bookings/": lambda r, s: {
        "patient": r.newcomer.pk,
        "session": r.session.pk,
        "service": s.servicetype.pk,
    },
    "POST /api/v1/bookings/{pk}/cancel/": lambda r, s: {
        "cancelled_by": "patient",
        "reason": "Unwell",
    },
    "POST /api/v1/bookings/{pk}/reschedule/": lambda r, s: {
        "starts_at": iso(r.session.starts_at + timedelta(hours=1))
    },
    "POST /api/v1/bookings/{pk}/seen/": lambda r, s: {"outcome": "completed"},
    "PATCH /api/v1/contact-points/{pk}/": lambda r, s: {"consent_given": True},
    "POST /api/v1/message-templates/": lambda r, s: {
        "name": "Email reminder",
        "purpose": "reminder",
        "channel": "email",
        "subject": "Your appointment",
        "body": "Hello {{ first_name }}, see you at {{ time }}.",
    },
    "PATCH /api/v1/message-templates/{pk}/": lambda r, s: {"name": "Text reminder"},
    "POST /api/v1/mobile-units/": lambda r, s: {
        "name": "Health bus 9",
        "registration": "HB09NEW",
        "capacity": 2,
        "supported_services": [s.servicetype.pk],
    },
    "PATCH /api/v1/mobile-units/{pk}/": lambda r, s: {"capacity": 3},
    "POST /api/v1/patients/": lambda r, s: {"preferred_name": "Sam"},
    "PATCH /api/v1/patients/{pk}/": lambda r, s: {"preferred_name": "Samantha"},
    "POST /api/v1/patients/{pk}/contact-points/": lambda r, s: {
        "channel": "email",
        "value": "sam@example.org",
        "consent_given": True,
    },
    "POST /api/v1/referrals/": lambda r, s: {
        "patient": r.patient.pk,
        "destination": s.destination.pk,
        "reason": "Needs a GP.",
        "consent_to_share": True,
        "consent_method": "verbal",
    },
    "POST /api/v1/referrals/{pk}/chases/": lambda r, s: {
        "channel": "phone",
        "outcome": "no_answer",
    },
    "POST /api/v1/referrals/{pk}/lost/": lambda r, s: {"reason": "Moved away."},
    "POST /api/v1/referrals/{pk}/re-refer/": lambda r, s: {
        "consent_to_share": True,
        "consent_method": "verbal",
    },
    "POST /api/v1/referrals/{pk}/reject/": lambda r, s: {"rejection_reason": "no_capacity"},
    "POST /api/v1/referrals/{pk}/withdraw/": lambda r, s: {"reason": "Changed their mind."},
    "POST /api/v1/series/": lambda r, s: {
        "name": "Thursday drop-in",
        "venue": r.venue.pk,
        "services": [s.servicetype.pk],
        "weekdays": [3],
        "start_date": "2026-06-04",
        "occurrence_limit": 2,
        "start_time": "10:00",
        "end_time": "12:00",
        "booking_mode": "mixed",
    },
    "POST /api/v1/sessions/": lambda r, s: {
        "name": "Extra clinic",
        "venue": r.venue.pk,
        "services": [s.servicetype.pk],
        "starts_at": "2026-06-03T09:00:00Z",
        "ends_at": "2026-06-03T12:00:00Z",
        "booking_mode": "appointments",
    },
    "PATCH /api/v1/sessions/{pk}/": lambda r, s: {"name": "Renamed clinic", "scope": "this"},
    "POST /api/v1/sessions/{pk}/cancel/": lambda r, s: {"reason": "Bus broke down."},
    "POST /api/v1/sessions/{pk}/staff/": lambda r, s: {"staff": r.staffmember.pk},
    "POST /api/v1/sessions/{pk}/walk-ins/": lambda r, s: {
        "patient": r.newcomer.pk,
        "service": s.servicetype.pk,
    },
    "POST /api/v1/sharing-agreements/": lambda r, s: {
        "sharing_organisation": r.organisation.pk,
        "receiving_organisation": r.sharingagreement.receiving_organisation_id,
        "purpose": "Follow-up care after the health bus.",
        "starts_on": "2026-06-01",
        "ends_on": "2027-06-01",
    },
    "PATCH /api/v1/sharing-agreements/{pk}/": lambda r, s: {"reference": "DSA-2026-04"},
    "PATCH /api/v1/staff/{pk}/": lambda r, s: {"phone": "01733 000000"},
    "POST /api/v1/venues/": lambda r, s: {"name": "Food bank", "kind": "food_bank"},
    "PATCH /api/v1/venues/{pk}/": lambda r, s: {"town": "Peterborough"},
    "POST /api/v1/waitlist/": lambda r, s: {"patient": r.newcomer.pk, "service": s.servicetype.pk},
    "POST /api/v1/jobs/report-export/": lambda r, s: {"report": "uptake"},
    "POST /api/v1/tokens/": lambda r, s: {"name": "Sync", "password": PASSWORD},
}


def _offer_a_freed_slot(records: SimpleNamespace) -> None:
    Booking.objects.filter(pk=records.booking.pk).update(
        status=Booking.Status.CANCELLED, cancelled_by="patient", cancellation_reason="Unwell"
    )
    WaitlistEntry.objects.filter(pk=records.waitlist.pk).update(
        status=WaitlistEntry.Status.OFFERED,
        offered_booking=records.booking,
        offered_at=NOW,
        patient=records.newcomer,
    )


# Records moved into the state an action needs, inside the test's transaction.
PREPARE: dict[str, Callable[[SimpleNamespace], None]] = {
    "POST /api/v1/waitlist/{pk}/accept/": _offer_a_freed_slot,
    "POST /api/v1/waitlist/{pk}/decline/": _offer_a_freed_slot,
    "POST /api/v1/sessions/{pk}/complete/": lambda r: OutreachSession.objects.filter(
        pk=r.session.pk
    ).update(status=OutreachSession.Status.IN_PROGRESS),
    "POST /api/v1/bookings/{pk}/seen/": lambda r: Booking.objects.filter(pk=r.booking.pk).update(
        status=Booking.Status.ARRIVED, arrived_at=r.session.starts_at
    ),
    "POST /api/v1/messages/{pk}/resend/": lambda r: Message.objects.filter(pk=r.message.pk).update(
        status=Message.Status.FAILED, failure_permanent=True
    ),
    "POST /api/v1/referrals/{pk}/book/": _move_referral("accepted", responded_at=NOW),
    "POST /api/v1/referrals/{pk}/attend/": _move_referral("booked", responded_at=NOW),
    "POST /api/v1/referrals/{pk}/close/": _move_referral(
        "attended", responded_at=NOW, attended_at=NOW
    ),
    "POST /api/v1/referrals/{pk}/re-refer/": _move_referral(
        "rejected", responded_at=NOW, rejection_reason="no_capacity"
    ),
    "POST /api/v1/referrals/{pk}/send/": _move_referral("draft", sent_at=None, due_date=None),
}

# The record an action is aimed at, where not the scope's record of its kind: anonymising
# someone with care in progress is refused, so the patient booked into nothing is used.
TARGET: dict[str, Callable[[SimpleNamespace], Any]] = {
    "POST /api/v1/patients/{pk}/anonymise/": lambda r: r.newcomer,
}

# Tokens are made only from a signed-in session (two-factor done), never a forced sign-in.
SESSION_ONLY = {"POST /api/v1/tokens/"}

# Fields made anew by every call, like an id: a new token's secret and its visible start.
FRESH = {"POST /api/v1/tokens/": {"prefix", "token"}}

# When an action can happen, if not at NOW (a week before the session): during or after it.
DURING = timedelta(minutes=30)
AFTER = timedelta(hours=5)
AT: dict[str, timedelta] = {
    "POST /api/v1/bookings/{pk}/no-show/": AFTER,
    "POST /api/v1/sessions/{pk}/walk-ins/": DURING,
}

# Endpoints whose body is not a set of fields, and why.
EXEMPT = {
    "POST /api/v1/destinations/import/": "the body is an Open Referral UK document",
    "POST /api/v1/jobs/directory-import/": "the body is an Open Referral UK document",
    "POST /api/v1/webhooks/notify/inbound/": "GOV.UK Notify's callback, not a client's write",
    "POST /api/v1/webhooks/notify/receipts/": "GOV.UK Notify's callback, not a client's write",
}

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
WRITES = [e for e in api_endpoints() if e.method in {"POST", "PATCH"} and e.key not in EXEMPT]


def _resolve(schema: dict[str, Any] | None) -> dict[str, Any]:
    while schema and "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema or {}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    return SCHEMA["paths"][endpoint.path.replace("{pk}", "{id}")][endpoint.method.lower()]


def _request_schema(endpoint: Endpoint) -> dict[str, Any]:
    content = _operation(endpoint).get("requestBody", {}).get("content", {})
    return _resolve(content.get("application/json", {}).get("schema"))


def _request_properties(endpoint: Endpoint) -> dict[str, Any]:
    properties = _request_schema(endpoint).get("properties", {})
    return {k: v for k, v in properties.items() if not v.get("readOnly")}


def _answer_properties(endpoint: Endpoint) -> dict[str, Any]:
    responses = _operation(endpoint)["responses"]
    for code in ("201", "202", "200"):
        schema = responses.get(code, {}).get("content", {}).get("application/json", {})
        properties = _resolve(schema.get("schema")).get("properties")
        if properties:
            return properties
    return {}


def protected_fields(endpoint: Endpoint) -> list[str]:
    """Fields of the answer the request does not accept: the client may not set them."""
    return sorted(set(_answer_properties(endpoint)) - set(_request_properties(endpoint)))


def _junk(value: Any, schema: dict[str, Any]) -> Any:
    """A value the server would never have chosen for this field."""
    schema = _resolve(schema) if "$ref" in schema else schema
    if "allOf" in schema:
        schema = _resolve(schema["allOf"][0])
    if isinstance(value, bool):
        return not value
    if isinstance(value, int) or schema.get("type") == "integer":
        return 987654
    if isinstance(value, list) or schema.get("type") == "array":
        return [987654]
    if isinstance(value, dict) or schema.get("type") == "object":
        return {"status": "closed"}
    if schema.get("enum"):
        return next(choice for choice in schema["enum"] if choice not in {value, None, ""})
    if schema.get("format") == "date-time":
        return "2001-02-03T04:05:06Z"
    if schema.get("format") == "date":
        return "2001-02-03"
    return "set by the client"


def _without_ids(value: Any) -> Any:
    # Ids of rows made by the call differ between the baseline and the second call.
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def test_every_write_endpoint_with_a_body_has_a_valid_one() -> None:
    missing = [e.key for e in WRITES if _request_schema(e).get("required") and e.key not in BODIES]
    assert missing == [], "add a valid body to BODIES"


# Set by the server alone, whatever a serializer of the future says.
NEVER_WRITABLE = {
    "status",
    "organisation",
    "created_by",
    "created_at",
    "updated_at",
    "merged_into",
    "referrer",
    "recorded_by",
    "chased_by",
    "consent_recorded_at",
    "consent_recorded_by",
    "opted_out_at",
    "offered_booking",
}


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.key for e in WRITES])
def test_no_request_accepts_a_field_only_the_server_sets(endpoint: Endpoint) -> None:
    assert set(_request_properties(endpoint)) & NEVER_WRITABLE == set()


def test_the_protected_fields_include_the_ones_that_matter() -> None:
    """The cases are generated: check they include the fields the issue names."""
    fields = {e.key: protected_fields(e) for e in WRITES}
    assert "organisation" in fields["POST /api/v1/patients/"]
    assert "created_at" in fields["POST /api/v1/patients/"]
    assert "status" in fields["POST /api/v1/bookings/"]
    assert "status" in fields["POST /api/v1/referrals/"]
    assert "referrer" in fields["POST /api/v1/referrals/"]
    assert "organisation" in fields["POST /api/v1/venues/"]
    assert "chased_by" in fields["POST /api/v1/referrals/{pk}/chases/"]


def _caller(endpoint: Endpoint, user: Any) -> Callable[..., Any]:
    """`call(path, body, format="json")` as `user`: forced, or from a verified session."""
    method = endpoint.method.lower()
    if endpoint.key not in SESSION_ONLY:
        client = APIClient()
        client.force_authenticate(user)
        return getattr(client, method)
    # The module's records were built before the tests' fast password hasher was set: give the
    # password again (in the test's savepoint) for the view to check it.
    user = type(user).objects.get(pk=user.pk)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    session = TwoFactorClient()
    session.force_login(user)

    def call(path: str, body: dict[str, Any], format: str) -> Any:
        return getattr(session, method)(path, json.dumps(body), content_type="application/json")

    return call


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.key for e in WRITES])
def test_read_only_fields_are_ignored_or_refused(world: World, endpoint: Endpoint) -> None:
    records, shared = world.scopes["own"], world.shared
    fields = protected_fields(endpoint)
    if not fields:
        pytest.fail(f"{endpoint.key} answers no fields to protect: is its response documented?")
    body = BODIES.get(endpoint.key, lambda r, s: {})(records, shared)
    target = TARGET.get(endpoint.key, lambda r: world.record("own", endpoint.basename))(records)
    path = endpoint.path.format(pk=target.pk, name="overdue")
    call = _caller(endpoint, world.users["admin"])
    at = NOW
    if endpoint.key in AT:
        at = records.session.starts_at + AT[endpoint.key]
    with time_machine.travel(at, tick=False):
        PREPARE.get(endpoint.key, lambda r: None)(records)
        with transaction.atomic():
            baseline = call(path, body, format="json")
            transaction.set_rollback(True)
        assert baseline.status_code in {200, 201, 202}, (baseline.status_code, baseline.content)
        answer = baseline.json()
        properties = _answer_properties(endpoint)
        sent = {name: _junk(answer.get(name), properties[name]) for name in fields}
        response = call(path, {**deepcopy(sent), **body}, format="json")

    if response.status_code == 400:
        refused = set(response.json().get("fields", {}))
        assert refused & set(sent), response.content
        return
    assert response.status_code == baseline.status_code, response.content
    got = response.json()
    for name in fields:
        if name == "id" or name in FRESH.get(endpoint.key, set()):
            assert got[name] != sent[name], name
        else:
            assert _without_ids(got.get(name)) == _without_ids(answer.get(name)), name
