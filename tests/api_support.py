"""Shared by the API tests of every app: a frozen clock, signed-in staff, the error shape.

Loaded for the whole suite from tests/conftest.py (pytest_plugins).

Coordinators, admins and superusers must pass two-factor sign-in before any page or API call.
`TwoFactorClient.force_login` (the `client`, `admin_client` and `client_for` fixtures use it)
completes it for them, as if they had entered a code; `complete_two_factor(client, user)` does
the same for a client made elsewhere. Tests of the enforcement itself sign in with
`force_login(user, two_factor=False)` or through the real sign-in pages.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import Organisation, StaffMember
from clinics.two_factor import two_factor_required
from tests import factories

# Monday 1 June 2026, 09:00 in London (BST).
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The clock stopped at NOW; `clock.shift()` and `clock.move_to()` move it on."""
    with time_machine.travel(NOW, tick=False) as coordinates:
        yield coordinates


@pytest.fixture
def organisation() -> Organisation:
    return factories.OrganisationFactory()


@pytest.fixture
def make_staff() -> Callable[..., StaffMember]:
    """Build a member of staff whose user is in the Django group of their role."""

    def make(organisation: Organisation, role: str = StaffMember.Role.NURSE, **kwargs: Any):
        staff = factories.StaffMemberFactory(organisation=organisation, role=role, **kwargs)
        staff.user.groups.add(Group.objects.get(name=staff.group_name))
        return staff

    return make


def complete_two_factor(client: Client, user: Any) -> TOTPDevice:
    """Give `user` a confirmed authenticator app and mark the client's session verified by it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows now, e.g. to type into a browser test."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


class TwoFactorClient(Client):
    """The test client, whose force_login also completes two-factor for roles that need it."""

    def force_login(self, user: Any, backend: str | None = None, two_factor: bool = True) -> None:
        super().force_login(user, backend)
        if two_factor and two_factor_required(user):
            complete_two_factor(self, user)

    def login(self, **credentials: Any) -> bool:
        """Sign in with a password; django-axes needs a request to count the attempt."""
        credentials.setdefault("request", HttpRequest())
        signed_in = super().login(**credentials)
        if signed_in:
            user = get_user_model().objects.get(pk=self.session[SESSION_KEY])
            if two_factor_required(user):
                complete_two_factor(self, user)
        return signed_in


class NoServerErrorClient(TwoFactorClient):
    """The test client, failing the test on any 5xx the API answers instead of raising."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        assert response.status_code < 500, (response.status_code, response.content)
        return response


@pytest.fixture
def client_for() -> Callable[[StaffMember], Client]:
    """A fresh test client signed in as the given member of staff, two-factor done if needed."""

    def make(staff: StaffMember) -> Client:
        client = NoServerErrorClient()
        client.force_login(staff.user)
        return client

    return make


@pytest.fixture
def nurse(organisation, make_staff) -> StaffMember:
    return make_staff(organisation, StaffMember.Role.NURSE)


@pytest.fixture
def coordinator(organisation, make_staff) -> StaffMember:
    return make_staff(organisation, StaffMember.Role.COORDINATOR)


@pytest.fixture
def nurse_client(nurse, client_for) -> Client:
    return client_for(nurse)


@pytest.fixture
def coordinator_client(coordinator, client_for) -> Client:
    return client_for(coordinator)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def post_json(client: Client, url: str, data: Any = None, **kwargs: Any) -> Any:
    return client.post(url, data or {}, content_type="application/json", **kwargs)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Check the one error shape: the status, a stable `code` and a readable `detail`."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"], body
    assert body["detail"], body
    if code is not None:
        assert body["code"] == code, body
    return body
