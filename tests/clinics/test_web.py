"""Finding and registering people through the test client."""

from datetime import date

import pytest
from django.urls import reverse

from clinics.models import Patient
from tests import factories

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
