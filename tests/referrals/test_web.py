"""Referring from an outcome: the suggestions and the prefilled form, through the test client."""

import pytest
from django.urls import reverse

from clinics.governance import AccessLogEntry
from outreach.models import Booking, VisitOutcome
from referrals.models import Destination, Referral, ReferralRule
from tests import factories
from tests.access_support import grant_sensitive_services, web_entries
from tests.api_support import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(organisation, clock):
    service = factories.ServiceTypeFactory(name="Dry blood spot test", code="dry-blood-spot")
    booking = factories.BookingFactory(
        session__organisation=organisation,
        patient__organisation=organisation,
        patient__preferred_name="Lee",
        service_type=service,
        status=Booking.Status.FULFILLED,
        arrived_at=NOW,
    )
    return factories.VisitOutcomeFactory(booking=booking, result=VisitOutcome.Result.REACTIVE)


@pytest.fixture
def hep_c():
    ReferralRule.objects.get_or_create(
        service_code="dry-blood-spot",
        result="reactive",
        destination_category="hepatitis_c",
        defaults={"priority": "urgent", "reason": "Reactive blood-borne virus test"},
    )
    return factories.DestinationFactory(
        name="Hepatitis C service", category=Destination.Category.HEPATITIS_C
    )


def test_the_outcome_page_offers_the_suggested_referrals_as_buttons(nurse_client, visit, hep_c):
    response = nurse_client.get(reverse("outreach_web:outcome", args=[visit.booking_id]))

    body = response.content.decode()
    assert "Refer to Hepatitis C service" in body
    assert reverse("referrals_web:refer", args=[visit.booking.patient_id]) in body


def test_a_suggestion_opens_the_form_prefilled_and_one_tap_sends_it(nurse_client, visit, hep_c):
    rule = ReferralRule.objects.get(
        destination_category="hepatitis_c", service_code="dry-blood-spot"
    )
    url = reverse("referrals_web:refer", args=[visit.booking.patient_id])

    page = nurse_client.get(url, {"outcome": visit.pk, "destination": hep_c.pk, "rule": rule.pk})
    form = page.context["form"]
    assert form["destination"].value() == hep_c.pk
    assert form["priority"].value() == "urgent"
    assert form["reason"].value() == "Reactive blood-borne virus test"
    assert form["consent_to_share"].value() is True

    response = nurse_client.post(
        url,
        {
            "outcome": visit.pk,
            "destination": hep_c.pk,
            "reason": "Reactive blood-borne virus test",
            "priority": "urgent",
            "consent_to_share": "on",
            "consent_method": "verbal",
        },
    )

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.SENT
    assert referral.source_outcome == visit
    assert referral.priority == "urgent"


def test_a_referral_without_consent_is_refused_and_keeps_the_reason(nurse_client, visit, hep_c):
    response = nurse_client.post(
        reverse("referrals_web:refer", args=[visit.booking.patient_id]),
        {
            "destination": hep_c.pk,
            "reason": "Needs treatment",
            "priority": "urgent",
            "consent_method": "verbal",
        },
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Confirm that they agree to their details being shared" in body
    assert "Needs treatment" in body
    assert not Referral.objects.exists()


def test_the_person_page_lists_open_referrals(nurse_client, organisation):
    referral = factories.ReferralFactory(organisation=organisation)

    body = nurse_client.get(
        reverse("outreach_web:person", args=[referral.patient_id])
    ).content.decode()

    assert referral.destination.name in body


def test_another_organisations_person_cannot_be_referred(client_for, make_staff, visit):
    stranger = client_for(make_staff(factories.OrganisationFactory()))

    assert (
        stranger.get(reverse("referrals_web:refer", args=[visit.booking.patient_id])).status_code
        == 404
    )


# --- the access log and sensitive services ----------------------------------------------------


def test_the_referral_form_logs_a_view_also_when_refused(nurse_client, visit, hep_c):
    url = reverse("referrals_web:refer", args=[visit.booking.patient_id])

    nurse_client.get(url, {"outcome": visit.pk, "destination": hep_c.pk})
    refused = nurse_client.post(url, {"outcome": visit.pk, "reason": "Reactive"})
    assert refused.status_code == 400

    assert [(e.action, e.patient_id) for e in web_entries()] == [
        (AccessLogEntry.Action.VIEW, visit.booking.patient_id)
    ] * 2


@pytest.fixture
def screening_visit(organisation, clock):
    screening = factories.ServiceTypeFactory(
        name="Cervical screening", code="cervical-screening", sensitive=True
    )
    booking = factories.BookingFactory(
        session__organisation=organisation,
        patient__organisation=organisation,
        service_type=screening,
        status=Booking.Status.FULFILLED,
        arrived_at=NOW,
    )
    visit = factories.VisitOutcomeFactory(booking=booking, result=VisitOutcome.Result.ABNORMAL)
    factories.ReferralFactory(
        organisation=organisation,
        patient=booking.patient,
        source_outcome=visit,
        destination__name="Colposcopy clinic",
    )
    return visit


def test_a_nurse_without_the_permission_sees_no_sensitive_referral_or_suggestion(
    nurse_client, screening_visit
):
    person = screening_visit.booking.patient
    page = nurse_client.get(reverse("outreach_web:person", args=[person.pk]))
    assert page.status_code == 200
    assert "Colposcopy clinic" not in page.content.decode()
    refer = reverse("referrals_web:refer", args=[person.pk])
    assert nurse_client.get(refer, {"outcome": screening_visit.pk}).status_code == 404
    outcome = reverse("outreach_web:outcome", args=[screening_visit.booking_id])
    assert nurse_client.get(outcome).status_code == 404


def test_a_nurse_granted_the_permission_sees_the_sensitive_referral(
    nurse, nurse_client, screening_visit
):
    grant_sensitive_services(nurse.user)
    person = screening_visit.booking.patient

    page = nurse_client.get(reverse("outreach_web:person", args=[person.pk]))

    assert "Colposcopy clinic" in page.content.decode()
    refer = reverse("referrals_web:refer", args=[person.pk])
    assert nurse_client.get(refer, {"outcome": screening_visit.pk}).status_code == 200
