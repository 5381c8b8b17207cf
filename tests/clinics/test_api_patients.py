"""The patients API: registering with only a first name, checks on identifiers, search, scope."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from clinics.models import Patient, StaffMember
from tests import factories
from tests.api_support import NoServerErrorClient, assert_error

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"
VALID_NHS_NUMBER = "9434765919"


def _signed_in(organisation, role: str = StaffMember.Role.NURSE) -> tuple[Client, StaffMember]:
    staff = factories.StaffMemberFactory(organisation=organisation, role=role)
    staff.user.groups.add(Group.objects.get(name=staff.group_name))
    client = NoServerErrorClient()
    client.force_login(staff.user)
    return client, staff


@pytest.fixture
def nurse(organisation) -> tuple[Client, StaffMember]:
    return _signed_in(organisation)


@pytest.fixture
def nurse_client(nurse) -> Client:
    return nurse[0]


def _post(client, data):
    return client.post(PATIENTS, data, content_type="application/json")


def _patch(client, patient, data):
    return client.patch(f"{PATIENTS}{patient.pk}/", data, content_type="application/json")


def test_a_first_name_is_enough_to_register(nurse, organisation):
    client, staff = nurse
    elsewhere = factories.OrganisationFactory()

    response = _post(client, {"preferred_name": "Jo", "organisation": elsewhere.pk})

    assert response.status_code == 201, response.content
    patient = Patient.objects.get(pk=response.json()["id"])
    assert response.json()["organisation"] == organisation.pk
    assert patient.organisation == organisation
    assert patient.created_by == staff.user


def test_a_preferred_name_is_required(nurse_client):
    error = assert_error(_post(nurse_client, {"legal_name": "Joanna Smith"}), 400, "invalid")

    assert "preferred_name" in error["fields"]


@pytest.mark.parametrize("number", ["9434765918", "12345", "94347659ab"])
def test_an_invalid_nhs_number_is_a_field_error(nurse_client, number):
    error = assert_error(
        _post(nurse_client, {"preferred_name": "Jo", "nhs_number": number}), 400, "invalid"
    )

    assert "nhs_number" in error["fields"]
    assert not Patient.objects.exists()


def test_an_nhs_number_typed_with_spaces_is_stored_as_ten_digits(nurse_client):
    # People copy it as printed on NHS letters: "943 476 5919" is twelve characters.
    response = _post(nurse_client, {"preferred_name": "Jo", "nhs_number": "943 476 5919"})

    assert response.status_code == 201, response.content
    assert response.json()["nhs_number"] == VALID_NHS_NUMBER


def test_a_duplicate_nhs_number_is_refused(nurse_client, organisation):
    factories.PatientFactory(organisation=organisation, nhs_number=VALID_NHS_NUMBER)

    response = _post(nurse_client, {"preferred_name": "Jo", "nhs_number": VALID_NHS_NUMBER})

    error = assert_error(response, 400, "invalid")
    assert "already registered" in error["fields"]["nhs_number"][0]
    assert Patient.objects.count() == 1


def test_no_fixed_abode_with_a_postcode_is_refused(nurse_client):
    response = _post(
        nurse_client, {"preferred_name": "Jo", "no_fixed_abode": True, "postcode": "PE1 1HF"}
    )

    assert "postcode" in assert_error(response, 400, "invalid")["fields"]


def test_a_date_of_birth_before_1900_is_a_field_error(nurse_client):
    # The year of birth is taken from the date, and the database holds it to 1900 onwards.
    response = _post(nurse_client, {"preferred_name": "Jo", "date_of_birth": "1033-09-05"})

    error = assert_error(response, 400, "invalid")
    assert error["fields"]["date_of_birth"] == ["Date of birth must be in 1900 or later."]
    assert Patient.objects.count() == 0


def test_a_postcode_cannot_be_added_to_someone_with_no_fixed_abode(nurse_client, organisation):
    patient = factories.PatientFactory(organisation=organisation, no_fixed_abode=True)

    response = _patch(nurse_client, patient, {"postcode": "PE1 1HF"})

    assert "postcode" in assert_error(response, 400, "invalid")["fields"]


def test_search_by_part_of_a_name(nurse_client, organisation):
    match = factories.PatientFactory(organisation=organisation, preferred_name="Roberta")
    by_legal = factories.PatientFactory(
        organisation=organisation, preferred_name="Bee", legal_name="Alison Roberts"
    )
    factories.PatientFactory(organisation=organisation, preferred_name="Sandra")

    found = nurse_client.get(PATIENTS, {"search": "robert"}).json()["results"]

    assert {p["id"] for p in found} == {match.pk, by_legal.pk}


def test_search_by_nhs_number_with_spaces(nurse_client, organisation):
    match = factories.PatientFactory(organisation=organisation, nhs_number=VALID_NHS_NUMBER)
    factories.PatientFactory(organisation=organisation)

    found = nurse_client.get(PATIENTS, {"search": " 943 476 5919 "}).json()["results"]

    assert [p["id"] for p in found] == [match.pk]


def test_another_organisations_patient_is_not_there(nurse_client):
    theirs = factories.PatientFactory(preferred_name="Roberta")

    assert_error(nurse_client.get(f"{PATIENTS}{theirs.pk}/"), 404, "not_found")
    assert_error(_patch(nurse_client, theirs, {"preferred_name": "Bob"}), 404, "not_found")
    assert nurse_client.get(PATIENTS, {"search": "Roberta"}).json()["results"] == []


def test_an_analyst_sees_no_patients(organisation):
    factories.PatientFactory(organisation=organisation)
    analyst, _ = _signed_in(organisation, StaffMember.Role.ANALYST)

    response = analyst.get(PATIENTS)

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert_error(_post(analyst, {"preferred_name": "Jo"}), 403)


def test_patching_records_the_change_in_history(nurse, organisation):
    client, staff = nurse
    patient = factories.PatientFactory(organisation=organisation, preferred_name="Jo")

    response = _patch(client, patient, {"interpreter_language": "Polish"})

    assert response.status_code == 200, response.content
    assert response.json()["interpreter_language"] == "Polish"
    latest, before = patient.history.order_by("-history_id")[:2]
    assert latest.history_user == staff.user
    assert latest.history_change_reason == "Details updated"
    changed = {change.field: change.new for change in latest.diff_against(before).changes}
    assert changed == {"interpreter_language": "Polish"}


def test_organisation_cannot_be_changed_by_patching(nurse_client, organisation):
    patient = factories.PatientFactory(organisation=organisation)

    response = _patch(nurse_client, patient, {"organisation": factories.OrganisationFactory().pk})

    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.organisation == organisation
