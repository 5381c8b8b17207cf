"""Finding and registering people through the test client: the log, auditors, partners."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from clinics.governance import AccessLogEntry, DataSharingAgreement
from clinics.models import Patient
from tests import factories
from tests.access_support import web_entries
from tests.api_support import NOW

pytestmark = pytest.mark.django_db


def test_search_by_a_misspelt_name_finds_preferred_and_legal_names(nurse_client, organisation):
    factories.PatientFactory(organisation=organisation, preferred_name="Mohammed")
    factories.PatientFactory(
        organisation=organisation, preferred_name="Bee", legal_name="Beatrice Okafor"
    )
    factories.PatientFactory(organisation=organisation, preferred_name="Zed")

    mohammed = nurse_client.get(reverse("clinics_web:people"), {"name": "Mohamed"})
    beatrice = nurse_client.get(reverse("clinics_web:people"), {"name": "Beatrice"})

    assert [p.preferred_name for p in mohammed.context["results"]] == ["Mohammed"]
    assert [p.preferred_name for p in beatrice.context["results"]] == ["Bee"]


def test_search_by_date_of_birth_and_nhs_number(nurse_client, organisation):
    factories.PatientFactory(
        organisation=organisation, preferred_name="Ana", date_of_birth=date(1990, 5, 4)
    )
    factories.PatientFactory(
        organisation=organisation, preferred_name="Ben", nhs_number="9434765919"
    )

    by_birth = nurse_client.get(
        reverse("clinics_web:people"),
        {"date_of_birth_0": "4", "date_of_birth_1": "5", "date_of_birth_2": "1990"},
    )
    by_number = nurse_client.get(reverse("clinics_web:people"), {"nhs_number": "943 476 5919"})

    assert [p.preferred_name for p in by_birth.context["results"]] == ["Ana"]
    assert [p.preferred_name for p in by_number.context["results"]] == ["Ben"]


def test_search_never_shows_another_organisations_people(nurse_client):
    factories.PatientFactory(organisation=factories.OrganisationFactory(), preferred_name="Hidden")

    response = nurse_client.get(reverse("clinics_web:people"), {"name": "Hidden"})

    assert response.context["results"] == []


def test_htmx_search_returns_only_the_results(nurse_client, organisation):
    factories.PatientFactory(organisation=organisation, preferred_name="Rosa")

    response = nurse_client.get(
        reverse("clinics_web:people"), {"name": "Rosa"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert "<html" not in body
    assert "1 person found" in body


def test_an_empty_search_asks_for_something_to_search_for(nurse_client):
    response = nurse_client.get(reverse("clinics_web:people"), {"name": ""})

    assert (
        "Enter a name, a date of birth or an NHS number to search for." in response.content.decode()
    )


def test_register_with_a_preferred_name_only(nurse_client, nurse):
    response = nurse_client.post(
        reverse("clinics_web:register"), {"preferred_name": "Kez", "housing_status": "unknown"}
    )

    person = Patient.objects.get(preferred_name="Kez")
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach_web:person", args=[person.pk])
    assert person.organisation == nurse.organisation


def test_register_refuses_a_wrong_nhs_number_and_keeps_what_was_typed(nurse_client):
    response = nurse_client.post(
        reverse("clinics_web:register"),
        {"preferred_name": "Kez", "nhs_number": "9434765918", "legal_name": "Kerry Smith"},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Check the NHS number: it is not a real one" in body
    assert 'value="Kez"' in body
    assert 'value="Kerry Smith"' in body
    assert not Patient.objects.filter(preferred_name="Kez").exists()


def test_register_needs_a_preferred_name(nurse_client):
    response = nurse_client.post(reverse("clinics_web:register"), {"preferred_name": ""})

    assert "Enter the name they would like to be called." in response.content.decode()


def test_analysts_cannot_search_people(client_for, make_staff, organisation):
    analyst = client_for(make_staff(organisation, "analyst"))

    assert analyst.get(reverse("clinics_web:people")).status_code == 403
    assert analyst.get(reverse("clinics_web:register")).status_code == 403


# --- the access log, auditors, partner organisations ------------------------------------------


def test_a_search_logs_one_entry_of_the_people_found(nurse_client, organisation):
    rosa = factories.PatientFactory(organisation=organisation, preferred_name="Rosa")
    rosalind = factories.PatientFactory(organisation=organisation, preferred_name="Rosalind")
    factories.PatientFactory(organisation=organisation, preferred_name="Zed")

    nurse_client.get(reverse("clinics_web:people"), {"name": "Rosa"})
    nurse_client.get(reverse("clinics_web:people"), {"name": "Rosa"}, HTTP_HX_REQUEST="true")

    entries = web_entries()
    assert [(e.action, e.patient_id, e.patient_ids) for e in entries] == [
        (AccessLogEntry.Action.SEARCH, None, sorted([rosa.pk, rosalind.pk]))
    ] * 2
    assert entries[0].path == reverse("clinics_web:people")


def test_a_search_that_shows_nobody_logs_nothing(nurse_client, organisation):
    factories.PatientFactory(organisation=organisation, preferred_name="Rosa")

    nurse_client.get(reverse("clinics_web:people"))  # the empty form
    nurse_client.get(reverse("clinics_web:people"), {"name": "Xavier"})  # nobody found

    assert web_entries() == []


def test_auditors_get_no_people_pages_and_no_navigation_to_them(
    client_for, make_staff, organisation
):
    factories.PatientFactory(organisation=organisation, preferred_name="Rosa")
    auditor = client_for(make_staff(organisation, "auditor"))

    assert auditor.get(reverse("clinics_web:people"), {"name": "Rosa"}).status_code == 403
    assert auditor.get(reverse("clinics_web:register")).status_code == 403
    home = auditor.get("/")
    assert home.status_code == 200
    assert home.context["navigation"] == []
    assert web_entries() == []


@pytest.fixture
def trust():
    return factories.OrganisationFactory(name="Peterborough Health Trust")


@pytest.fixture
def charity():
    return factories.OrganisationFactory(name="Wildflowers")


@pytest.fixture
def shared_person(clock, trust):
    """A trust patient with a booking at one of the trust's sessions next week."""
    person = factories.PatientFactory(organisation=trust, preferred_name="Marguerite")
    factories.BookingFactory(
        session__organisation=trust,
        patient=person,
        starts_at=NOW + timedelta(days=7),
        ends_at=NOW + timedelta(days=7, minutes=15),
    )
    return person


def _find(client, name):
    return [
        p.pk for p in client.get(reverse("clinics_web:people"), {"name": name}).context["results"]
    ]


def test_partner_staff_find_and_see_a_shared_person_under_an_agreement(
    make_staff, client_for, trust, charity, shared_person
):
    partner = client_for(make_staff(charity))
    page = reverse("outreach_web:person", args=[shared_person.pk])
    assert _find(partner, "Marguerite") == []
    assert partner.get(page).status_code == 404

    factories.DataSharingAgreementFactory(
        sharing_organisation=trust, receiving_organisation=charity
    )

    assert _find(partner, "Marguerite") == [shared_person.pk]
    response = partner.get(page)
    assert response.status_code == 200
    assert [b.patient_id for b in response.context["upcoming"]] == [shared_person.pk]
    # The partner's reads are logged with the partner's organisation, for the trust to see.
    assert {(e.action, e.organisation_id) for e in web_entries()} == {
        (AccessLogEntry.Action.SEARCH, charity.pk),
        (AccessLogEntry.Action.VIEW, charity.pk),
    }


def test_a_patients_only_agreement_shows_the_person_but_not_their_care(
    make_staff, client_for, trust, charity, shared_person
):
    factories.DataSharingAgreementFactory(
        sharing_organisation=trust,
        receiving_organisation=charity,
        records=DataSharingAgreement.Records.PATIENTS,
    )
    partner = client_for(make_staff(charity))

    response = partner.get(reverse("outreach_web:person", args=[shared_person.pk]))

    assert response.status_code == 200
    assert list(response.context["upcoming"]) == []


def test_an_agreement_that_has_ended_shares_nothing_in_the_web(
    make_staff, client_for, trust, charity, shared_person
):
    factories.DataSharingAgreementFactory(
        sharing_organisation=trust,
        receiving_organisation=charity,
        starts_on=date(2025, 1, 1),
        ends_on=date(2026, 6, 1),  # ends on NOW's London date: access stops that day
    )
    partner = client_for(make_staff(charity))

    assert _find(partner, "Marguerite") == []
    assert partner.get(reverse("outreach_web:person", args=[shared_person.pk])).status_code == 404
