"""Sensitive services are seen only by staff who hold the sensitive-services permission."""

import pytest
from django.contrib.auth.models import Permission

from clinics.permissions import patients_for
from outreach.permissions import (
    bookings_for,
    messages_for,
    outcomes_for,
    replies_for,
    waitlist_for,
)
from referrals.permissions import chases_for, referrals_for
from tests import factories

pytestmark = pytest.mark.django_db

SCOPES = [bookings_for, outcomes_for, waitlist_for, messages_for, replies_for, referrals_for]


@pytest.fixture
def screening(organisation):
    """A cervical screening booking with everything that hangs off it."""
    service = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    patient = factories.PatientFactory(organisation=organisation)
    session = factories.OutreachSessionFactory(organisation=organisation)
    booking = factories.BookingFactory(session=session, patient=patient, service_type=service)
    outcome = factories.VisitOutcomeFactory(booking=booking)
    factories.WaitlistEntryFactory(organisation=organisation, patient=patient, service_type=service)
    factories.MessageFactory(organisation=organisation, patient=patient, booking=booking)
    factories.InboundMessageFactory(organisation=organisation, patient=patient, booking=booking)
    referral = factories.ReferralFactory(
        organisation=organisation, patient=patient, source_outcome=outcome
    )
    factories.ReferralChaseFactory(referral=referral)
    return booking


def _counts(user) -> list[int]:
    return [scope(user).count() for scope in [*SCOPES, chases_for]]


def test_a_nurse_without_the_permission_sees_none_of_it(screening, nurse):
    assert _counts(nurse.user) == [0] * 7
    # The person stays visible: only the sensitive care is hidden.
    assert patients_for(nurse.user).filter(pk=screening.patient_id).exists()


def test_a_nurse_granted_the_permission_sees_it(screening, nurse):
    nurse.user.user_permissions.add(Permission.objects.get(codename="view_sensitive_services"))
    nurse.user.refresh_from_db()
    assert _counts(nurse.user) == [1] * 7


def test_coordinators_hold_it_by_their_role(screening, coordinator):
    assert _counts(coordinator.user) == [1] * 7


def test_a_discreet_message_is_hidden_without_a_booking(organisation, nurse):
    factories.MessageFactory(organisation=organisation, discreet=True)
    assert not messages_for(nurse.user).exists()


def test_ordinary_services_stay_visible(organisation, nurse):
    session = factories.OutreachSessionFactory(organisation=organisation)
    booking = factories.BookingFactory(session=session)
    factories.ReferralFactory(organisation=organisation, patient=booking.patient)
    assert bookings_for(nurse.user).count() == 1
    assert referrals_for(nurse.user).count() == 1


def test_the_api_answers_404_and_leaves_them_out_of_lists(screening, nurse_client):
    assert nurse_client.get(f"/api/v1/bookings/{screening.pk}/").status_code == 404
    assert nurse_client.get("/api/v1/bookings/").json()["results"] == []
    referral = screening.outcome.referrals.get()
    assert nurse_client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    day = nurse_client.get(f"/api/v1/sessions/{screening.session_id}/day/").json()
    assert day["bookings"] == []


def test_the_admin_leaves_them_out(screening, nurse, client_for):
    nurse.user.user_permissions.add(Permission.objects.get(codename="view_booking"))
    client = client_for(nurse)
    response = client.get(f"/admin/outreach/booking/{screening.pk}/change/")
    assert response.status_code in {302, 404}
