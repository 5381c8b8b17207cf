"""Who may call each API endpoint, for every role, on their own, a partner's and another
organisation's records.

The endpoints come from the URL resolver, so an endpoint added without a rule here fails
`test_every_endpoint_has_a_rule`. Each rule names the roles that may use the endpoint on their
own organisation's records; everything else follows:

- an allowed role gets an answer (2xx, or 400/409 for the empty body every write is sent);
- a role without the permission gets 403 before any record is looked up, so the answer says
  nothing about whether the record exists; where scoping rather than a permission keeps a role
  out (analysts and auditors and person-level records), a list is empty and a record is 404;
- another organisation's record ("other") is 404 even to an allowed role (`other=OK` where a
  record is shared: the service catalogue, the directory, templates and venues), and is never
  in a list;
- a "partner" organisation shares its patients and their care with the user's organisation
  under a data-sharing agreement in force (tests/api_world.py). Its patients, contact points,
  bookings, outcomes, waiting list, messages and referrals are found and acted on by the
  user's staff with their own role's permissions (`partner=OK`, the default); operational
  records (sessions, series, units, staff, jobs, tokens) and a venue's edits are not widened,
  and the access log, the subject access export and anonymisation stay with the controlling
  organisation (`partner=NOT_SHARED`, a 404). Auditors read the history of their own
  organisation's patients only (`controller_only`).

Signing in is DRF's `force_authenticate`, which is not a session: making an API token, which
only a signed-in session may do, is refused to every role here (`session_required`), and
`test_tokens_are_made_from_a_session_after_two_factor` makes it from a real session, with and
without two-factor. A sensitive service's booking is hidden from a nurse without
`clinics.view_sensitive_services` (`test_a_sensitive_booking_is_hidden_without_the_permission`).

Adding a role: add it to `StaffMember.Role` and its group to clinics/roles.py; `ROLES` in
tests/api_world.py picks it up and every rule must then say whether it is in `roles`.
Adding a scope: build its records in `build_world` as `world.scopes[name]`, add the name to
`SCOPES`, and give `Rule` a field of the same name with its default answer, overridden on the
endpoints that differ. The expectation for a scope is the `Rule` field of the same name.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from clinics.permissions import SENSITIVE_PERMISSION
from tests import factories
from tests.api_routes import Endpoint, api_endpoints
from tests.api_support import TwoFactorClient, assert_error, complete_two_factor, post_json
from tests.api_world import ROLES, World

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"
OK = "ok"  # an answer: 2xx, or 400/409 for the empty body a write is sent
EMPTY = "empty"  # 200 with nothing in it

CLINICAL = frozenset({"nurse", "hca", "outreach_worker"})
PEOPLE = CLINICAL | {"coordinator", "admin"}  # every role that sees person-level records
PLANNERS = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})
AUDITOR = frozenset({"auditor"})
# Every role that reads the operational records (sessions, venues, the catalogue, the directory):
# analysts and auditors too, who see no people.
OPERATIONAL = PEOPLE | {"analyst", "auditor"}
REPORTERS = PLANNERS | {"analyst"}  # `referrals.view_reports`
GOVERNANCE = PLANNERS  # the subject access export and anonymisation
LOG_READERS = PLANNERS | AUDITOR  # `clinics.view_accesslogentry`
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]  # who may use it on their own organisation's records
    denied: int | str = 403  # what every other role gets
    other: int | str = 404  # what an allowed role gets for another organisation's record
    # ...and for a partner's record shared under the agreement: person-level records and their
    # care are shared (partner staff read and act on them with their own role), so OK by default.
    partner: int | str = OK
    # Allowed roles whose access an agreement does not widen: they get 404 on a partner's record.
    controller_only: frozenset[str] = NOBODY


# Person-level records read through scoping: analysts and auditors see an empty list or a 404.
PERSON_LIST = Rule(PEOPLE, denied=EMPTY)
PERSON_READ = Rule(PEOPLE, denied=404)
# Operational records and the organisation's own business are not widened by an agreement.
NOT_SHARED = 404


MATRIX: dict[str, Rule] = {
    "GET /api/v1/bookings/": PERSON_LIST,
    "POST /api/v1/bookings/": Rule(PEOPLE),
    "GET /api/v1/bookings/{pk}/": PERSON_READ,
    "POST /api/v1/bookings/{pk}/cancel/": Rule(PEOPLE),
    "POST /api/v1/bookings/{pk}/check-in/": Rule(PEOPLE),
    "GET /api/v1/bookings/{pk}/history/": PERSON_READ,
    "POST /api/v1/bookings/{pk}/no-show/": Rule(PEOPLE),
    "POST /api/v1/bookings/{pk}/reschedule/": Rule(PEOPLE),
    "POST /api/v1/bookings/{pk}/seen/": Rule(PEOPLE),
    "GET /api/v1/contact-points/{pk}/": PERSON_READ,
    "PATCH /api/v1/contact-points/{pk}/": Rule(PEOPLE),
    "POST /api/v1/contact-points/{pk}/opt-out/": Rule(PEOPLE),
    "GET /api/v1/destinations/": Rule(OPERATIONAL, other=OK),
    # The directory is listed to every member of staff; the export needs `view_destination`,
    # which auditors do not hold.
    "GET /api/v1/destinations/export/": Rule(OPERATIONAL - AUDITOR),
    "POST /api/v1/destinations/import/": Rule(PLANNERS),
    "GET /api/v1/destinations/{pk}/": Rule(OPERATIONAL, other=OK),
    "GET /api/v1/message-templates/": Rule(PLANNERS, other=OK),
    "POST /api/v1/message-templates/": Rule(ADMIN),
    "GET /api/v1/message-templates/{pk}/": Rule(PLANNERS, other=OK),
    "PATCH /api/v1/message-templates/{pk}/": Rule(ADMIN, other=OK),
    "GET /api/v1/messages/": Rule(PEOPLE),
    "GET /api/v1/messages/{pk}/": Rule(PEOPLE),
    "POST /api/v1/messages/{pk}/resend/": Rule(PLANNERS),
    "GET /api/v1/mobile-units/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "POST /api/v1/mobile-units/": Rule(ADMIN),
    "GET /api/v1/mobile-units/{pk}/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "PATCH /api/v1/mobile-units/{pk}/": Rule(ADMIN, partner=NOT_SHARED),
    "GET /api/v1/organisations/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "GET /api/v1/organisations/{pk}/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "GET /api/v1/patients/": PERSON_LIST,
    "POST /api/v1/patients/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/": PERSON_READ,
    "PATCH /api/v1/patients/{pk}/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/contact-points/": Rule(PEOPLE),
    "POST /api/v1/patients/{pk}/contact-points/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/history/": Rule(
        PEOPLE | AUDITOR, denied=404, controller_only=AUDITOR
    ),
    # The controlling organisation answers for who looked at its patients and for their rights:
    # an agreement does not widen the access log, the export or anonymisation.
    "GET /api/v1/patients/{pk}/access-log/": Rule(LOG_READERS, partner=NOT_SHARED),
    "GET /api/v1/patients/{pk}/export/": Rule(GOVERNANCE, partner=NOT_SHARED),
    "POST /api/v1/patients/{pk}/anonymise/": Rule(GOVERNANCE, partner=NOT_SHARED),
    "GET /api/v1/referrals/": PERSON_LIST,
    "POST /api/v1/referrals/": Rule(PEOPLE),
    "GET /api/v1/referrals/suggestions/": PERSON_READ,
    "GET /api/v1/referrals/worklists/": Rule(PEOPLE),
    "GET /api/v1/referrals/worklists/{name}/": Rule(PEOPLE),
    "GET /api/v1/referrals/{pk}/": PERSON_READ,
    "POST /api/v1/referrals/{pk}/accept/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/attend/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/book/": Rule(PEOPLE),
    "GET /api/v1/referrals/{pk}/chases/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/chases/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/close/": Rule(PEOPLE),
    "GET /api/v1/referrals/{pk}/fhir/": PERSON_READ,
    "GET /api/v1/referrals/{pk}/history/": PERSON_READ,
    "POST /api/v1/referrals/{pk}/lost/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/re-refer/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/reject/": Rule(PEOPLE),
    "POST /api/v1/referrals/{pk}/send/": Rule(PEOPLE),
    "GET /api/v1/referrals/{pk}/summary/": PERSON_READ,
    "POST /api/v1/referrals/{pk}/withdraw/": Rule(PEOPLE),
    "GET /api/v1/replies/": Rule(PLANNERS),
    "GET /api/v1/replies/{pk}/": Rule(PLANNERS),
    "POST /api/v1/replies/{pk}/handle/": Rule(PLANNERS),
    "GET /api/v1/series/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "POST /api/v1/series/": Rule(PLANNERS),
    "GET /api/v1/series/{pk}/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "GET /api/v1/service-types/": Rule(OPERATIONAL, other=OK),
    "GET /api/v1/service-types/{pk}/": Rule(OPERATIONAL, other=OK),
    "GET /api/v1/sessions/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "POST /api/v1/sessions/": Rule(PLANNERS),
    "GET /api/v1/sessions/{pk}/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "PATCH /api/v1/sessions/{pk}/": Rule(PLANNERS, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/cancel/": Rule(PLANNERS, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/complete/": Rule(PLANNERS, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/confirm/": Rule(PLANNERS, partner=NOT_SHARED),
    "GET /api/v1/sessions/{pk}/day/": Rule(PEOPLE, partner=NOT_SHARED),
    "GET /api/v1/sessions/{pk}/history/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "GET /api/v1/sessions/{pk}/slots/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/staff/": Rule(PLANNERS, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/start/": Rule(PLANNERS, partner=NOT_SHARED),
    "GET /api/v1/sessions/{pk}/walk-ins/": Rule(PEOPLE, partner=NOT_SHARED),
    "POST /api/v1/sessions/{pk}/walk-ins/": Rule(PEOPLE, partner=NOT_SHARED),
    # An agreement is seen by the parties to it: the partner's agreements with others are not.
    "GET /api/v1/sharing-agreements/": Rule(PLANNERS | {"auditor"}, partner=NOT_SHARED),
    "POST /api/v1/sharing-agreements/": Rule(ADMIN),
    "GET /api/v1/sharing-agreements/{pk}/": Rule(PLANNERS | {"auditor"}, partner=NOT_SHARED),
    "PATCH /api/v1/sharing-agreements/{pk}/": Rule(ADMIN, partner=NOT_SHARED),
    "GET /api/v1/slots/": Rule(OPERATIONAL),
    "GET /api/v1/staff/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "GET /api/v1/staff/{pk}/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "PATCH /api/v1/staff/{pk}/": Rule(ADMIN, partner=NOT_SHARED),
    "GET /api/v1/venues/": Rule(OPERATIONAL, other=OK),
    "POST /api/v1/venues/": Rule(PLANNERS),
    "GET /api/v1/venues/{pk}/": Rule(OPERATIONAL, other=OK),
    "PATCH /api/v1/venues/{pk}/": Rule(PLANNERS, partner=NOT_SHARED),
    "GET /api/v1/visit-outcomes/": Rule(PEOPLE),
    "GET /api/v1/visit-outcomes/{pk}/": Rule(PEOPLE),
    "GET /api/v1/waitlist/": PERSON_LIST,
    "POST /api/v1/waitlist/": Rule(PEOPLE),
    "GET /api/v1/waitlist/{pk}/": PERSON_READ,
    "POST /api/v1/waitlist/{pk}/accept/": Rule(PEOPLE),
    "POST /api/v1/waitlist/{pk}/decline/": Rule(PEOPLE),
    "POST /api/v1/waitlist/{pk}/withdraw/": Rule(PEOPLE),
    "GET /api/v1/reports/": Rule(REPORTERS),
    "GET /api/v1/reports/{name}/": Rule(REPORTERS),
    # Jobs: of kinds the user may run (a directory export: `referrals.view_destination`), of
    # their own organisation only.
    "GET /api/v1/jobs/": Rule(OPERATIONAL - AUDITOR, denied=EMPTY, partner=NOT_SHARED),
    "GET /api/v1/jobs/{pk}/": Rule(OPERATIONAL - AUDITOR, denied=404, partner=NOT_SHARED),
    "GET /api/v1/jobs/{pk}/download/": Rule(OPERATIONAL - AUDITOR, denied=404, partner=NOT_SHARED),
    "POST /api/v1/jobs/directory-export/": Rule(OPERATIONAL - AUDITOR),
    "POST /api/v1/jobs/directory-import/": Rule(PLANNERS),
    "POST /api/v1/jobs/report-export/": Rule(REPORTERS),
    # Tokens: everyone lists their own; the record is a colleague's token, which only an admin
    # sees and revokes. Making one needs a signed-in session, which force_authenticate is not:
    # every role is refused here (`session_required`), and test_tokens_are_made_from_a_session
    # below calls it from a session, with and without two-factor.
    "GET /api/v1/tokens/": Rule(OPERATIONAL, partner=NOT_SHARED),
    "POST /api/v1/tokens/": Rule(NOBODY, denied=403),
    "GET /api/v1/tokens/{pk}/": Rule(ADMIN, denied=404, partner=NOT_SHARED),
    "POST /api/v1/tokens/{pk}/revoke/": Rule(ADMIN, denied=404, partner=NOT_SHARED),
    # GOV.UK Notify's callbacks take its bearer token, never a member of staff's session.
    "POST /api/v1/webhooks/notify/inbound/": Rule(NOBODY, denied=401),
    "POST /api/v1/webhooks/notify/receipts/": Rule(NOBODY, denied=401),
}

SCOPES = ["own", "other", "partner"]

# Query parameters an endpoint needs to answer at all, from the records of a scope.
QUERY: dict[str, Any] = {
    "GET /api/v1/referrals/suggestions/": lambda r: {"outcome": r.visitoutcome.pk},
    "GET /api/v1/sessions/{pk}/slots/": lambda r: {"service": r.session.services.get().pk},
    "GET /api/v1/slots/": lambda r: {"service": r.session.services.get().pk},
}
# Path values other than a record's id.
PATH_VALUES: dict[str, dict[str, str]] = {
    "/api/v1/referrals/worklists/{name}/": {"name": "overdue"},
    "/api/v1/reports/{name}/": {"name": "uptake"},
}

ENDPOINTS = api_endpoints()
# Lists of records, asked whether another scope's record is in them (not the report catalogue).
SCOPED_LISTS = {e.key for e in ENDPOINTS if e.action == "list" and e.key != "GET /api/v1/reports/"}


def _cases() -> list[Any]:
    cases = []
    for endpoint in ENDPOINTS:
        for role in ROLES:
            for scope in SCOPES:
                # A create or a summary has no record of another organisation to aim at.
                if scope != "own" and not (endpoint.is_detail or endpoint.key in SCOPED_LISTS):
                    continue
                cases.append(
                    pytest.param(endpoint, role, scope, id=f"{endpoint.key} {role} {scope}")
                )
    return cases


def test_every_endpoint_has_a_rule() -> None:
    keys = {endpoint.key for endpoint in ENDPOINTS}
    assert sorted(keys - set(MATRIX)) == [], "endpoints without a rule in MATRIX"
    assert sorted(set(MATRIX) - keys) == [], "rules for endpoints that no longer exist"


def test_every_rule_names_only_known_roles() -> None:
    for key, rule in MATRIX.items():
        assert rule.roles <= set(ROLES), key


def _expected(endpoint: Endpoint, role: str, scope: str) -> int | str:
    rule = MATRIX[endpoint.key]
    if role not in rule.roles:
        return rule.denied
    if scope == "own" or endpoint.action == "list":
        return OK  # a list answers; whether the other organisation's record is in it is below
    if scope == "partner" and role in rule.controller_only:
        return 404
    return getattr(rule, scope)


def _call(world: World, endpoint: Endpoint, role: str, scope: str) -> Any:
    records = world.scopes[scope]
    path = endpoint.path
    values = dict(PATH_VALUES.get(endpoint.path, {}))
    if endpoint.is_detail:
        values["pk"] = world.record(scope, endpoint.basename).pk
    path = path.format(**values)
    client = APIClient()
    client.force_authenticate(world.users[role])
    query = QUERY.get(endpoint.key, lambda r: {})(
        world.scopes["own"] if scope == "own" else records
    )
    if endpoint.method == "GET":
        return client.get(path, query)
    return getattr(client, endpoint.method.lower())(path, {}, format="json")


@pytest.mark.parametrize(("endpoint", "role", "scope"), _cases())
def test_authorisation(world: World, endpoint: Endpoint, role: str, scope: str) -> None:
    expected = _expected(endpoint, role, scope)
    response = _call(world, endpoint, role, scope)
    status = response.status_code
    assert status < 500, response.content
    listed = endpoint.action == "list"
    if expected == OK:
        assert status not in {401, 403, 404, 405}, (status, response.content)
        if endpoint.method == "GET":
            assert status == 200, response.content
        if listed and scope != "own" and getattr(MATRIX[endpoint.key], scope) == OK:
            # A shared record (a venue, the catalogue) is listed for everyone.
            assert _listed(response, world.record(scope, endpoint.basename).pk)
    elif expected == EMPTY:
        assert status == 200, response.content
        assert response.json()["results"] == []
    else:
        assert status == expected, (status, response.content)
    if listed and status == 200 and scope != "own" and getattr(MATRIX[endpoint.key], scope) != OK:
        assert not _listed(response, world.record(scope, endpoint.basename).pk)


def _listed(response: Any, pk: int) -> bool:
    return pk in {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.key for endpoint in ENDPOINTS])
def test_signed_out_is_refused_everywhere(world: World, endpoint: Endpoint) -> None:
    values = dict(PATH_VALUES.get(endpoint.path, {}))
    if endpoint.is_detail:
        values["pk"] = world.record("own", endpoint.basename).pk
    path = endpoint.path.format(**values)
    response = getattr(APIClient(), endpoint.method.lower())(path, {}, format="json")
    assert response.status_code in {401, 403}, response.content
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


@pytest.mark.parametrize("role", ROLES)
def test_tokens_are_made_from_a_session_after_two_factor(world: World, role: str) -> None:
    """POST /api/v1/tokens/ from a real session: every role may make its own token, roles that
    need two-factor only once their session is verified (the matrix's forced sign-in is not a
    session, so there every role gets `session_required`)."""
    user = world.users[role]
    client = TwoFactorClient()
    client.force_login(user, two_factor=False)
    if role in settings.OUTREACH_TWO_FACTOR_ROLES:
        refused = post_json(client, TOKENS, {})
        assert_error(refused, 403, "two_factor_required")
        complete_two_factor(client, user)
    # Signed in (and verified where needed): the empty body is refused for its fields only.
    answer = post_json(client, TOKENS, {})
    assert "name" in assert_error(answer, 400, "invalid")["fields"], answer.content


def test_forced_sign_in_cannot_make_a_token(world: World) -> None:
    client = APIClient()
    client.force_authenticate(world.users["nurse"])
    assert_error(client.post(TOKENS, {}, format="json"), 403, "session_required")


@pytest.mark.parametrize("scope", ["own", "partner"])
def test_a_sensitive_booking_is_hidden_without_the_permission(world: World, scope: str) -> None:
    """A nurse without `clinics.view_sensitive_services` cannot find a sensitive booking, on
    her own organisation's or a partner's session; a coordinator, who holds it, can."""
    records = world.scopes[scope]
    booking = factories.BookingFactory(
        session=records.session,
        patient=records.newcomer,
        service_type=factories.ServiceTypeFactory(sensitive=True),
        lane=3,
    )
    path = f"/api/v1/bookings/{booking.pk}/"
    assert not world.users["nurse"].has_perm(SENSITIVE_PERMISSION)
    nurse, coordinator = APIClient(), APIClient()
    nurse.force_authenticate(world.users["nurse"])
    coordinator.force_authenticate(world.users["coordinator"])

    assert_error(nurse.get(path), 404, "not_found")
    assert booking.pk not in {row["id"] for row in nurse.get("/api/v1/bookings/").json()["results"]}
    assert coordinator.get(path).status_code == 200
