"""Fixtures for the outreach API tests: a session tomorrow and its service and venue."""

from datetime import UTC, datetime, timedelta

import pytest

from clinics.models import Patient, ServiceType, Venue
from outreach.models import BookingMode, OutreachSession
from tests import factories
from tests.api_support import NOW, assert_error, iso, post_json

__all__ = ["NOW", "TOMORROW_10", "assert_error", "iso", "post_json"]

# Tuesday 2 June 2026, 10:00-14:00 in London.
TOMORROW_10 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def service() -> ServiceType:
    return factories.ServiceTypeFactory(name="Health check", default_duration_minutes=15)


@pytest.fixture
def venue(organisation) -> Venue:
    return factories.VenueFactory(organisation=organisation)


@pytest.fixture
def session(clock, organisation, venue, service) -> OutreachSession:
    """Tomorrow 10:00-14:00 London, two lanes of 15-minute slots, offering `service`."""
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=TOMORROW_10,
        ends_at=TOMORROW_10 + timedelta(hours=4),
        booking_mode=BookingMode.MIXED,
    )
    session.services.add(service)
    return session


@pytest.fixture
def today_session(organisation, venue, service) -> OutreachSession:
    """On now: started an hour ago (07:00 UTC), ends at 11:00 UTC, appointments and walk-ins."""
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=3),
        booking_mode=BookingMode.MIXED,
    )
    session.services.add(service)
    return session


@pytest.fixture
def patient(organisation) -> Patient:
    return factories.PatientFactory(organisation=organisation, preferred_name="Sam")
