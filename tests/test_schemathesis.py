"""Schemathesis against the live OpenAPI schema, signed in as a coordinator, every check on.

Every operation of `/api/schema/` gets generated requests, valid and invalid, sent to the
running WSGI application in this process; every check runs on each answer: no server error,
the status code and content type are documented, the body matches the documented schema, and
the rest of Schemathesis's checks. Generation is deterministic (Hypothesis is derandomised), so
a failure in CI is the same failure on a laptop.

Requests run in the test's transaction (rolled back at the end), over the records of
tests/api_world.py, so ids in the generated requests sometimes hit real records.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application
from tests.api_support import TwoFactorClient
from tests.api_world import World

# Enough to reach the error paths of every operation while the whole run stays around two
# minutes on two cores.
EXAMPLES_PER_OPERATION = 6
CSRF_TOKEN = "schemathesis0csrf0token000000000"  # 32 characters: a valid unmasked secret
CALLBACK_TOKEN = "schemathesis-callback-token"
WEBHOOKS = "/api/v1/webhooks/"

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.generation.update(
    max_examples=EXAMPLES_PER_OPERATION,
    deterministic=True,
    # The session cookie is sent on every request (below); generating it too would only make
    # requests signed out, which tests/test_api_matrix.py covers for every endpoint.
    with_security_parameters=False,
)
# A request can fit the schema and still name a record that does not exist or break a rule
# the schema cannot state (a time already past, a clash): that is a 400 or 409 with the reason.
# Every other check keeps its defaults; `ignored_auth` would need requests without the cookie
# every request carries here, so signed-out requests are tested by the matrix instead.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2xx",
    "400",
    "403",
    "404",
    "409",
    "429",
]
schema.config.checks.update(excluded_check_names=["ignored_auth"])

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def coordinator(world: World) -> Iterator[dict[str, Any]]:
    """A coordinator's session and CSRF cookies and token, as a browser would send them.

    The session has two-factor done, as a coordinator's must: without it every request would
    be a 403 `two_factor_required`, and the run would test nothing else.
    """
    client = TwoFactorClient()
    client.force_login(world.users["coordinator"])
    assert client.get("/api/v1/patients/").status_code == 200
    session = client.cookies["sessionid"].value
    # Django closes the connection after each request when it is inside a transaction, which
    # would end the test's; its own test client disconnects these signals for the same reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "cookies": {"sessionid": session, "csrftoken": CSRF_TOKEN},
            "headers": {"X-CSRFToken": CSRF_TOKEN},
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case: Any, coordinator: dict[str, Any], settings: Any) -> None:
    credentials = {**coordinator, "headers": dict(coordinator["headers"])}
    if case.operation.path.startswith(WEBHOOKS):
        # GOV.UK Notify's callbacks take Notify's token, not a session (the schema says so):
        # send it as Notify would, or every request would be the same 401.
        settings.NOTIFY_CALLBACK_TOKEN = CALLBACK_TOKEN
        credentials["headers"]["Authorization"] = f"Bearer {CALLBACK_TOKEN}"
    case.call_and_validate(**credentials)
