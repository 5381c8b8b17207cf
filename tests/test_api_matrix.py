"""Who may call each API endpoint, for every role, on their own and another organisation's records.

The endpoints come from the URL resolver, so an endpoint added without a rule here fails
`test_every_endpoint_has_a_rule`. Each rule names the roles that may use the endpoint on their
own organisation's records; everything else follows:

- an allowed role gets an answer (2xx, or 400/409 for the empty body every write is sent);
- a role without the permission gets 403 before any record is looked up, so the answer says
  nothing about whether the record exists; where scoping rather than a permission keeps a role
  out (analysts and person-level records), a list is empty and a record is 404;
- another organisation's record is 404 even to an allowed role (`other=OK` where a record is
  shared: the service catalogue, the directory, templates and venues), and is never in a list.

Adding a role: add it to `StaffMember.Role` and its group to clinics/roles.py; `ROLES` in
tests/api_world.py picks it up and every rule must then say whether it is in `roles`.
Adding a scope (a partner organisation under a data-sharing agreement): build its records in
`build_world` (tests/api_world.py) as `world.scopes["partner"]`, with the agreement; add
"partner" to `SCOPES`; and give `Rule` a field named `partner`, like `other`, whose default is
what the agreement grants (OK for reads of shared records, 404 for writes), overridden on the
endpoints that differ. The expectation for a scope is the `Rule` field of the same name.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api_routes import Endpoint, api_endpoints
from tests.api_world import ROLES, World

pytestmark = pytest.mark.django_db

OK = "ok"  # an answer: 2xx, or 400/409 for the empty body a write is sent
EMPTY = "empty"  # 200 with nothing in it

CLINICAL = frozenset({"nurse", "hca", "outreach_worker"})
PEOPLE = CLINICAL | {"coordinator", "admin"}  # every role that sees person-level records
EVERYONE = PEOPLE | {"analyst"}
PLANNERS = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]  # who may use it on their own organisation's records
    denied: int | str = 403  # what every other role gets
    other: int | str = 404  # what an allowed role gets for another organisation's record


# Person-level records read through scoping: analysts see an empty list or a 404.
PERSON_LIST = Rule(PEOPLE, denied=EMPTY)
PERSON_READ = Rule(PEOPLE, denied=404)

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
    "GET /api/v1/destinations/": Rule(EVERYONE, other=OK),
    "GET /api/v1/destinations/export/": Rule(EVERYONE),
    "POST /api/v1/destinations/import/": Rule(PLANNERS),
    "GET /api/v1/destinations/{pk}/": Rule(EVERYONE, other=OK),
    "GET /api/v1/message-templates/": Rule(PLANNERS, other=OK),
    "POST /api/v1/message-templates/": Rule(ADMIN),
    "GET /api/v1/message-templates/{pk}/": Rule(PLANNERS, other=OK),
    "PATCH /api/v1/message-templates/{pk}/": Rule(ADMIN, other=OK),
    "GET /api/v1/messages/": Rule(PEOPLE),
    "GET /api/v1/messages/{pk}/": Rule(PEOPLE),
    "POST /api/v1/messages/{pk}/resend/": Rule(PLANNERS),
    "GET /api/v1/mobile-units/": Rule(EVERYONE),
    "POST /api/v1/mobile-units/": Rule(ADMIN),
    "GET /api/v1/mobile-units/{pk}/": Rule(EVERYONE),
    "PATCH /api/v1/mobile-units/{pk}/": Rule(ADMIN),
    "GET /api/v1/organisations/": Rule(EVERYONE),
    "GET /api/v1/organisations/{pk}/": Rule(EVERYONE),
    "GET /api/v1/patients/": PERSON_LIST,
    "POST /api/v1/patients/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/": PERSON_READ,
    "PATCH /api/v1/patients/{pk}/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/contact-points/": Rule(PEOPLE),
    "POST /api/v1/patients/{pk}/contact-points/": Rule(PEOPLE),
    "GET /api/v1/patients/{pk}/history/": PERSON_READ,
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
    "GET /api/v1/series/": Rule(EVERYONE),
    "POST /api/v1/series/": Rule(PLANNERS),
    "GET /api/v1/series/{pk}/": Rule(EVERYONE),
    "GET /api/v1/service-types/": Rule(EVERYONE, other=OK),
    "GET /api/v1/service-types/{pk}/": Rule(EVERYONE, other=OK),
    "GET /api/v1/sessions/": Rule(EVERYONE),
    "POST /api/v1/sessions/": Rule(PLANNERS),
    "GET /api/v1/sessions/{pk}/": Rule(EVERYONE),
    "PATCH /api/v1/sessions/{pk}/": Rule(PLANNERS),
    "POST /api/v1/sessions/{pk}/cancel/": Rule(PLANNERS),
    "POST /api/v1/sessions/{pk}/complete/": Rule(PLANNERS),
    "POST /api/v1/sessions/{pk}/confirm/": Rule(PLANNERS),
    "GET /api/v1/sessions/{pk}/day/": Rule(PEOPLE),
    "GET /api/v1/sessions/{pk}/history/": Rule(EVERYONE),
    "GET /api/v1/sessions/{pk}/slots/": Rule(EVERYONE),
    "POST /api/v1/sessions/{pk}/staff/": Rule(PLANNERS),
    "POST /api/v1/sessions/{pk}/start/": Rule(PLANNERS),
    "GET /api/v1/sessions/{pk}/walk-ins/": Rule(PEOPLE),
    "POST /api/v1/sessions/{pk}/walk-ins/": Rule(PEOPLE),
    "GET /api/v1/sharing-agreements/": Rule(PLANNERS | {"auditor"}),
    "POST /api/v1/sharing-agreements/": Rule(ADMIN),
    "GET /api/v1/sharing-agreements/{pk}/": Rule(PLANNERS | {"auditor"}),
    "PATCH /api/v1/sharing-agreements/{pk}/": Rule(ADMIN),
    "GET /api/v1/slots/": Rule(EVERYONE),
    "GET /api/v1/staff/": Rule(EVERYONE),
    "GET /api/v1/staff/{pk}/": Rule(EVERYONE),
    "PATCH /api/v1/staff/{pk}/": Rule(ADMIN),
    "GET /api/v1/venues/": Rule(EVERYONE, other=OK),
    "POST /api/v1/venues/": Rule(PLANNERS),
    "GET /api/v1/venues/{pk}/": Rule(EVERYONE, other=OK),
    "PATCH /api/v1/venues/{pk}/": Rule(PLANNERS),
    "GET /api/v1/visit-outcomes/": Rule(PEOPLE),
    "GET /api/v1/visit-outcomes/{pk}/": Rule(PEOPLE),
    "GET /api/v1/waitlist/": PERSON_LIST,
    "POST /api/v1/waitlist/": Rule(PEOPLE),
    "GET /api/v1/waitlist/{pk}/": PERSON_READ,
    "POST /api/v1/waitlist/{pk}/accept/": Rule(PEOPLE),
    "POST /api/v1/waitlist/{pk}/decline/": Rule(PEOPLE),
    "POST /api/v1/waitlist/{pk}/withdraw/": Rule(PEOPLE),
    # GOV.UK Notify's callbacks take its bearer token, never a member of staff's session.
    "POST /api/v1/webhooks/notify/inbound/": Rule(NOBODY, denied=401),
    "POST /api/v1/webhooks/notify/receipts/": Rule(NOBODY, denied=401),
}

SCOPES = ["own", "other"]

# Query parameters an endpoint needs to answer at all, from the records of a scope.
QUERY: dict[str, Any] = {
    "GET /api/v1/referrals/suggestions/": lambda r: {"outcome": r.visitoutcome.pk},
    "GET /api/v1/sessions/{pk}/slots/": lambda r: {"service": r.session.services.get().pk},
    "GET /api/v1/slots/": lambda r: {"service": r.session.services.get().pk},
}
PATH_VALUES = {"name": "overdue"}

ENDPOINTS = api_endpoints()


def _cases() -> list[Any]:
    cases = []
    for endpoint in ENDPOINTS:
        for role in ROLES:
            for scope in SCOPES:
                # A create or a summary has no record of another organisation to aim at.
                if scope != "own" and not (endpoint.is_detail or endpoint.action == "list"):
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
    return getattr(rule, scope)


def _call(world: World, endpoint: Endpoint, role: str, scope: str) -> Any:
    records = world.scopes[scope]
    path = endpoint.path
    values = dict(PATH_VALUES)
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
    values = dict(PATH_VALUES)
    if endpoint.is_detail:
        values["pk"] = world.record("own", endpoint.basename).pk
    path = endpoint.path.format(**values)
    response = getattr(APIClient(), endpoint.method.lower())(path, {}, format="json")
    assert response.status_code in {401, 403}, response.content
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}
