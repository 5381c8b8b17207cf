"""Report fixtures: a period, staff of each role, and builders for bookings and referrals."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clinics.models import StaffMember
from outreach.models import Booking
from referrals.models import Referral
from referrals.reports import Period
from tests import factories

LONDON = ZoneInfo("Europe/London")
# The first half of 2026: winter (GMT) and summer (BST) both inside.
PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


@pytest.fixture
def analyst(organisation, make_staff) -> StaffMember:
    return make_staff(organisation, StaffMember.Role.ANALYST)


@pytest.fixture
def other_organisation():
    return factories.OrganisationFactory(name="Another trust")


_minutes = count()


@pytest.fixture
def book() -> Callable[..., Booking]:
    """A booking of a new person (or `patient`) at `session`, in the given status."""

    def make(
        session: Any,
        service: Any,
        status: str = Booking.Status.FULFILLED,
        *,
        source: str = Booking.Source.BOOKED,
        patient: Any = None,
        **patient_fields: Any,
    ) -> Booking:
        if patient is None:
            patient = factories.PatientFactory(organisation=session.organisation, **patient_fields)
        # Each booking its own quarter hour, no lane: the overlap constraints stay quiet.
        starts_at = session.starts_at + timedelta(minutes=next(_minutes) % 200)
        extra: dict[str, Any] = {}
        if status in (Booking.Status.ARRIVED, Booking.Status.FULFILLED):
            extra["arrived_at"] = starts_at
        if status == Booking.Status.CANCELLED:
            extra["cancelled_by"] = Booking.CancelledBy.PATIENT
        return factories.BookingFactory(
            session=session,
            service_type=service,
            patient=patient,
            status=status,
            source=source,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=1),
            lane=None,
            **extra,
        )

    return make


@pytest.fixture
def refer() -> Callable[..., Referral]:
    """A referral sent at `sent` (London), and booked or attended as given."""

    def make(
        organisation: Any,
        destination: Any,
        sent: datetime | None,
        *,
        status: str = Referral.Status.SENT,
        appointment: datetime | None = None,
        attended: datetime | None = None,
        patient: Any = None,
        **fields: Any,
    ) -> Referral:
        if patient is None:
            patient = factories.PatientFactory(organisation=organisation)
        extra = {"rejection_reason": Referral.RejectionReason.OTHER} if status == "rejected" else {}
        return factories.ReferralFactory(
            organisation=organisation,
            patient=patient,
            destination=destination,
            status=status,
            sent_at=sent,
            appointment_at=appointment,
            attended_at=attended,
            **extra,
            **fields,
        )

    return make
