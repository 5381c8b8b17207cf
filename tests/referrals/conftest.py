"""Fixtures for the referrals tests: a frozen clock, staff clients, a patient and a destination."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client

from clinics.models import ContactPoint, Organisation, Patient, StaffMember
from referrals.models import Destination
from tests import factories

# Monday 1 June 2026, 09:00 in London (BST).
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
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


class NoServerErrorClient(Client):
    """The test client, failing the test on any 5xx instead of raising."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        assert response.status_code < 500, (response.status_code, response.content)
        return response


@pytest.fixture
def client_for() -> Callable[[StaffMember], Client]:
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


@pytest.fixture
def patient(organisation) -> Patient:
    patient = factories.PatientFactory(organisation=organisation, preferred_name="Sam")
    factories.ContactPointFactory(
        patient=patient,
        channel=ContactPoint.Channel.SMS,
        value="+447700900123",
        consent_given=True,
        consent_recorded_at=NOW,
    )
    return patient


@pytest.fixture
def destination() -> Destination:
    return factories.DestinationFactory(
        name="Hepatitis C treatment service",
        category=Destination.Category.HEPATITIS_C,
        response_target_days=14,
    )


def post_json(client: Client, url: str, data: Any = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: the status, a stable `code` and a readable `detail`."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"], body
    assert body["detail"], body
    if code is not None:
        assert body["code"] == code, body
    return body
