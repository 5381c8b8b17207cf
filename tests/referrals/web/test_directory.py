"""The destination directory: search, read, add and edit, by role."""

import pytest
from django.urls import reverse

from clinics.models import StaffMember
from referrals.models import Destination
from tests import factories

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {
        "name": "Peterborough Sexual Health",
        "category": "sexual_health",
        "provider": "iCaSH",
        "description": "",
        "route": "nhsmail",
        "email": "referrals@example.nhs.uk",
        "phone": "",
        "url": "",
        "address": "",
        "postcode": "",
        "area": "Peterborough",
        "response_target_days": "7",
        "eligibility_notes": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("role", "view", "add"),
    [
        (StaffMember.Role.COORDINATOR, 200, 200),
        (StaffMember.Role.ADMIN, 200, 200),
        (StaffMember.Role.NURSE, 200, 403),
        (StaffMember.Role.ANALYST, 200, 403),
    ],
)
def test_everyone_reads_the_directory_and_coordinators_and_admins_add(
    organisation, make_staff, client_for, role, view, add
):
    client = client_for(make_staff(organisation, role))
    destination = factories.DestinationFactory()
    assert client.get(reverse("directory")).status_code == view
    assert client.get(reverse("directory-detail", args=[destination.pk])).status_code == view
    assert client.get(reverse("directory-add")).status_code == add
    assert client.get(reverse("directory-edit", args=[destination.pk])).status_code == add
    assert client.post(reverse("directory-add"), _form()).status_code in (302, add)


def test_search_by_name_provider_or_area_and_kind(coordinator_client):
    wanted = factories.DestinationFactory(
        name="Hep C Trust", provider="The Hepatitis C Trust", category="hepatitis_c"
    )
    factories.DestinationFactory(
        name="Citizens Advice Wigan", category="citizens_advice", area="Wigan"
    )
    factories.DestinationFactory(name="Old hep clinic", is_active=False, category="hepatitis_c")
    response = coordinator_client.get(
        reverse("directory"), {"q": "hepatitis", "category": "hepatitis_c"}
    )
    assert [d.pk for d in response.context["page"].object_list] == [wanted.pk]
    response = coordinator_client.get(reverse("directory"), {"q": "wigan"})
    assert [d.name for d in response.context["page"].object_list] == ["Citizens Advice Wigan"]
    response = coordinator_client.get(reverse("directory"), {"q": "hep", "show_inactive": "on"})
    assert len(response.context["page"].object_list) == 2


def test_htmx_search_gets_only_the_results(coordinator_client):
    factories.DestinationFactory(name="Food bank")
    response = coordinator_client.get(
        reverse("directory"), {"q": "food"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="directory-count"' in html
    assert "1 destination" in html
    assert "<html" not in html


def test_a_coordinator_adds_and_edits_a_destination(coordinator_client):
    response = coordinator_client.post(reverse("directory-add"), _form())
    destination = Destination.objects.get()
    assert response["Location"] == reverse("directory-detail", args=[destination.pk])
    assert destination.response_target_days == 7
    page = coordinator_client.get(response["Location"])
    assert "Peterborough Sexual Health is in the directory." in page.content.decode()
    response = coordinator_client.post(
        reverse("directory-edit", args=[destination.pk]),
        _form(response_target_days="10", is_active=""),
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.response_target_days == 10
    assert destination.is_active is False


def test_bad_input_is_explained_and_kept(coordinator_client):
    response = coordinator_client.post(
        reverse("directory-add"), _form(name="", email="not-an-email", provider="Kept provider")
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "email"}
    html = response.content.decode()
    assert 'value="Kept provider"' in html
    assert "There is a problem" in html
    assert not Destination.objects.exists()


def test_the_services_rules_are_shown_next_to_the_field(coordinator_client):
    response = coordinator_client.post(reverse("directory-add"), _form(response_target_days="400"))
    assert response.status_code == 400
    assert response.context["form"].errors["response_target_days"] == [
        "Ensure this value is less than or equal to 365."
    ]
    assert not Destination.objects.exists()


def test_a_second_destination_with_the_same_name_and_area_is_refused_in_a_sentence(
    coordinator_client,
):
    factories.DestinationFactory(name="Peterborough Sexual Health", area="Peterborough")
    response = coordinator_client.post(reverse("directory-add"), _form())
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Destination with this Name and Area already exists."
    ]
    assert Destination.objects.count() == 1


def test_a_missing_destination_is_not_found(coordinator_client):
    assert coordinator_client.get(reverse("directory-detail", args=[999])).status_code == 404
    assert (
        coordinator_client.post(reverse("directory-edit", args=[999]), _form()).status_code == 404
    )


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(reverse("directory"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
