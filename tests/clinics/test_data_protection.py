"""Subject access export, anonymisation and the retention job."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from clinics.data_protection import anonymise_past_retention, anonymise_patient
from clinics.governance import AccessLogEntry
from clinics.models import ContactPoint, Patient
from clinics.services import system_user
from outreach.models import Booking, Message
from referrals.models import Referral
from tests import factories
from tests.api_support import NOW, assert_error, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(organisation, nurse):
    """Someone seen last year: a booking, an outcome, a message, a closed referral, history."""
    from clinics.services import update_patient

    patient = factories.PatientFactory(
        organisation=organisation,
        preferred_name="Jo",
        legal_name="Joanna Example",
        year_of_birth=1987,
        nhs_number="9434765919",
        postcode="PE1 1AA",
        safe_contact_notes="Never leave a voicemail",
    )
    update_patient(patient, by=nurse.user, legal_name="Joanna Q Example")
    factories.ContactPointFactory(patient=patient)
    session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=NOW - timedelta(days=365)
    )
    booking = factories.BookingFactory(
        session=session, patient=patient, notes="Jo prefers Tuesdays"
    )
    factories.VisitOutcomeFactory(booking=booking, notes="Jo was well")
    factories.MessageFactory(organisation=organisation, patient=patient, booking=booking)
    referral = factories.ReferralFactory(
        organisation=organisation, patient=patient, status=Referral.Status.WITHDRAWN
    )
    factories.ReferralChaseFactory(referral=referral)
    return patient


def test_the_export_holds_everything_and_is_logged(clock, person, coordinator_client):
    response = coordinator_client.get(f"/api/v1/patients/{person.pk}/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["patient"]["legal_name"] == "Joanna Q Example"
    for part in (
        "contact_points",
        "bookings",
        "visit_outcomes",
        "messages",
        "referrals",
        "referral_chases",
    ):
        assert len(data[part]) == 1, part
    assert len(data["patient_history"]) == 2
    assert data["booking_history"]
    assert data["referral_history"]
    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.patient_id) == ("export", person.pk)


def test_nurses_may_not_export(clock, person, nurse_client):
    assert nurse_client.get(f"/api/v1/patients/{person.pk}/export/").status_code == 403


def test_a_shared_patient_is_exported_only_by_their_own_organisation(
    clock, person, make_staff, client_for
):
    partner = factories.OrganisationFactory()
    factories.DataSharingAgreementFactory(
        sharing_organisation=person.organisation, receiving_organisation=partner
    )
    client = client_for(make_staff(partner, "coordinator"))
    assert client.get(f"/api/v1/patients/{person.pk}/").status_code == 200
    assert client.get(f"/api/v1/patients/{person.pk}/export/").status_code == 404


def test_the_export_command_writes_json_and_logs_it(clock, person, coordinator, tmp_path):
    target = tmp_path / "export.json"
    call_command(
        "export_patient", str(person.pk), "--by", coordinator.user.username, "--output", target
    )
    assert json.loads(target.read_text())["patient"]["id"] == person.pk
    assert AccessLogEntry.objects.get().via == "command"


def test_anonymising_removes_identity_and_keeps_what_reports_count(
    clock, person, coordinator_client
):
    response = post_json(coordinator_client, f"/api/v1/patients/{person.pk}/anonymise/")
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.preferred_name == "Anonymised"
    assert (person.legal_name, person.nhs_number, person.postcode) == ("", "", "")
    assert person.safe_contact_notes == ""
    assert (person.year_of_birth, person.postcode_district) == (1985, "PE1")
    assert person.housing_status == Patient.Housing.UNKNOWN
    assert person.anonymised_at == NOW
    assert not ContactPoint.objects.filter(patient=person).exists()
    assert Booking.objects.get(patient=person).notes == ""
    assert Message.objects.get(patient=person).to == ""
    # No history row keeps who the person was.
    names = set(person.history.values_list("preferred_name", "legal_name", "nhs_number"))
    assert names == {("Anonymised", "", "")}
    assert not Booking.history.filter(patient_id=person.pk).exclude(notes="").exists()
    assert not Referral.history.filter(patient_id=person.pk, reason__contains="hepatitis")


def test_anonymising_twice_changes_nothing(clock, person, coordinator):
    anonymise_patient(person, by=coordinator.user)
    rows = person.history.count()
    anonymise_patient(person, by=coordinator.user)
    assert person.history.count() == rows


def test_anonymising_is_refused_while_care_is_open(clock, person, coordinator_client):
    referral = Referral.objects.get(patient=person)
    factories.ReferralFactory(organisation=referral.organisation, patient=person)
    future = factories.OutreachSessionFactory(
        organisation=person.organisation, starts_at=NOW + timedelta(days=3)
    )
    factories.BookingFactory(session=future, patient=person)
    response = post_json(coordinator_client, f"/api/v1/patients/{person.pk}/anonymise/")
    body = assert_error(response, 409, "patient_has_open_care")
    assert body["blockers"] == ["1 future booking", "1 open referral"]
    person.refresh_from_db()
    assert person.legal_name == "Joanna Q Example"


def test_nurses_may_not_anonymise(clock, person, nurse_client):
    response = post_json(nurse_client, f"/api/v1/patients/{person.pk}/anonymise/")
    assert response.status_code == 403


def test_retention_anonymises_only_those_past_the_period_in_batches(clock, organisation, settings):
    settings.OUTREACH_RETENTION_YEARS = 8
    clock.move_to(datetime(2016, 1, 10, tzinfo=UTC))
    old = factories.PatientFactory.create_batch(3, organisation=organisation)
    seen_again = factories.PatientFactory(organisation=organisation)
    with_open_referral = factories.PatientFactory(organisation=organisation)
    factories.ReferralFactory(organisation=organisation, patient=with_open_referral)
    clock.move_to(datetime(2020, 3, 1, tzinfo=UTC))
    session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=datetime(2020, 3, 2, 10, tzinfo=UTC)
    )
    factories.BookingFactory(session=session, patient=seen_again)

    clock.move_to(datetime(2024, 1, 11, tzinfo=UTC))
    result = anonymise_past_retention(by=system_user(), batch_size=2)
    assert (result.anonymised, result.kept_for_open_care) == (3, 1)
    anonymised = set(Patient.objects.filter(anonymised_at__isnull=False))
    assert anonymised == set(old)

    again = anonymise_past_retention(by=system_user())
    assert (again.anonymised, again.kept_for_open_care) == (0, 1)

    clock.move_to(datetime(2028, 4, 1, tzinfo=UTC))
    assert anonymise_past_retention(by=system_user()).anonymised == 1  # seen_again, now too old


def test_the_retention_task_is_on_the_beat_schedule():
    from config.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "clinics.tasks.anonymise_past_retention_task" in tasks


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", "history"), ("get", "access-log"), ("get", "export"), ("post", "anonymise")],
)
def test_a_patient_id_that_is_not_a_number_is_not_found(clock, coordinator_client, method, action):
    # The id is tried against the database only as a number: "null,null" is a 404, not a 500.
    response = getattr(coordinator_client, method)(f"/api/v1/patients/null,null/{action}/")
    assert_error(response, 404, "not_found")
