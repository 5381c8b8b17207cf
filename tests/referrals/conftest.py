"""Fixtures for the referrals tests: a patient who may be texted and a destination."""

import pytest

from clinics.models import ContactPoint, Patient
from referrals.models import Destination
from tests import factories
from tests.api_support import NOW, assert_error, post_json

__all__ = ["NOW", "assert_error", "post_json"]


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
