"""The data-sharing agreements API: read by coordinators, admins and auditors; kept by admins."""

from datetime import date

import pytest

from clinics.governance import DataSharingAgreement
from clinics.models import StaffMember
from tests import factories
from tests.api_support import assert_error, post_json

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/sharing-agreements/"
Role = StaffMember.Role


@pytest.fixture
def admin(organisation, make_staff) -> StaffMember:
    return make_staff(organisation, Role.ADMIN)


@pytest.fixture
def admin_api(admin, client_for):
    return client_for(admin)


@pytest.fixture
def partner():
    return factories.OrganisationFactory(name="Street Health CIC")


def _agreement(sharing, receiving, **fields) -> DataSharingAgreement:
    return factories.DataSharingAgreementFactory(
        sharing_organisation=sharing, receiving_organisation=receiving, **fields
    )


def _body(organisation, partner, **fields):
    return {
        "sharing_organisation": organisation.pk,
        "receiving_organisation": partner.pk,
        "purpose": "Follow-up of cervical screening results by the partner's nurses.",
        "reference": "DSA-2026-07",
        "starts_on": "2026-06-01",
        "ends_on": "2027-06-01",
        **fields,
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN, Role.AUDITOR])
def test_the_parties_roles_read_their_agreements(
    organisation, partner, make_staff, client_for, role
):
    ours = _agreement(organisation, partner)
    theirs_to_us = _agreement(partner, organisation)
    _agreement(partner, factories.OrganisationFactory())  # not ours: never listed
    client = client_for(make_staff(organisation, role))

    response = client.get(AGREEMENTS)

    assert sorted(_ids(response)) == sorted([ours.pk, theirs_to_us.pk])
    assert response.json()["count"] == 2
    detail = client.get(f"{AGREEMENTS}{ours.pk}/").json()
    assert detail["sharing_organisation"] == organisation.pk
    assert detail["receiving_organisation"] == partner.pk
    assert detail["records"] == "care"


@pytest.mark.parametrize("role", [Role.NURSE, Role.HCA, Role.OUTREACH_WORKER, Role.ANALYST])
def test_other_roles_are_refused(organisation, partner, make_staff, client_for, role):
    agreement = _agreement(organisation, partner)
    client = client_for(make_staff(organisation, role))

    assert_error(client.get(AGREEMENTS), 403)
    assert_error(client.get(f"{AGREEMENTS}{agreement.pk}/"), 403)
    assert_error(post_json(client, AGREEMENTS, _body(organisation, partner)), 403)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.AUDITOR])
def test_only_admins_write(organisation, partner, make_staff, client_for, role):
    agreement = _agreement(organisation, partner)
    client = client_for(make_staff(organisation, role))

    assert_error(post_json(client, AGREEMENTS, _body(organisation, partner)), 403)
    response = client.patch(
        f"{AGREEMENTS}{agreement.pk}/", {"reference": "X"}, content_type="application/json"
    )
    assert_error(response, 403)


def test_another_organisations_agreement_is_a_404(admin_api, partner):
    elsewhere = _agreement(partner, factories.OrganisationFactory())
    url = f"{AGREEMENTS}{elsewhere.pk}/"

    assert_error(admin_api.get(url), 404)
    assert_error(admin_api.patch(url, {"reference": "X"}, content_type="application/json"), 404)
    elsewhere.refresh_from_db()
    assert elsewhere.reference == ""


def test_an_admin_records_an_agreement_through_the_service(admin, admin_api, organisation, partner):
    response = post_json(admin_api, AGREEMENTS, _body(organisation, partner))

    assert response.status_code == 201, response.content
    agreement = DataSharingAgreement.objects.get(pk=response.json()["id"])
    assert agreement.recorded_by == admin.user
    assert agreement.sharing_organisation == organisation
    latest = agreement.history.latest()
    assert latest.history_user == admin.user
    assert latest.history_change_reason == "Recorded through the API"
    assert response.json()["recorded_by"] == (
        admin.user.get_full_name() or admin.user.get_username()
    )


def test_sharing_another_organisations_records_is_refused_with_the_field(admin_api, partner):
    third = factories.OrganisationFactory()

    body = assert_error(
        post_json(admin_api, AGREEMENTS, _body(partner, third)), 400, "not_your_records"
    )

    assert "sharing_organisation" in body["fields"]
    assert not DataSharingAgreement.objects.filter(sharing_organisation=partner).exists()


def test_a_reciprocal_agreement_needs_a_superuser(admin_api, organisation, partner, admin_client):
    body = assert_error(
        post_json(admin_api, AGREEMENTS, _body(organisation, partner, reciprocal=True)),
        400,
        "reciprocal_needs_superuser",
    )
    assert "reciprocal" in body["fields"]

    response = post_json(admin_client, AGREEMENTS, _body(partner, organisation, reciprocal=True))
    assert response.status_code == 201, response.content
    assert response.json()["reciprocal"] is True


def test_changing_to_reciprocal_is_refused_too(admin_api, organisation, partner):
    agreement = _agreement(organisation, partner)
    response = admin_api.patch(
        f"{AGREEMENTS}{agreement.pk}/", {"reciprocal": True}, content_type="application/json"
    )
    assert_error(response, 400, "reciprocal_needs_superuser")
    agreement.refresh_from_db()
    assert agreement.reciprocal is False


def test_the_receiving_party_may_not_change_the_agreement(admin_api, organisation, partner):
    agreement = _agreement(partner, organisation)
    response = admin_api.patch(
        f"{AGREEMENTS}{agreement.pk}/", {"ends_on": "2030-01-01"}, content_type="application/json"
    )
    assert_error(response, 400, "not_your_records")
    agreement.refresh_from_db()
    assert agreement.ends_on == date(2027, 6, 1)


def test_an_admin_changes_their_agreement(admin, admin_api, organisation, partner):
    agreement = _agreement(organisation, partner)
    response = admin_api.patch(
        f"{AGREEMENTS}{agreement.pk}/", {"ends_on": "2026-12-31"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    agreement.refresh_from_db()
    assert agreement.ends_on == date(2026, 12, 31)
    assert agreement.history.latest().history_change_reason == "Changed through the API"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"ends_on": "2026-05-01"}, {"ends_on"}),
        ({"receiving_organisation": "own"}, {"receiving_organisation"}),
        ({"receiving_organisation": 987654}, {"receiving_organisation"}),
        ({"records": "everything"}, {"records"}),
        ({"purpose": 42, "starts_on": "next week"}, {"purpose", "starts_on"}),
        ({"purpose": ""}, {"purpose"}),
    ],
)
def test_bad_input_is_a_400_naming_the_fields(admin_api, organisation, partner, fields, errors):
    if fields.get("receiving_organisation") == "own":
        fields = {**fields, "receiving_organisation": organisation.pk}
    body = assert_error(
        post_json(admin_api, AGREEMENTS, _body(organisation, partner, **fields)), 400
    )
    assert set(body["fields"]) >= errors
    assert not DataSharingAgreement.objects.exists()


def test_server_set_fields_sent_by_the_client_are_ignored(admin, admin_api, organisation, partner):
    someone = factories.UserFactory()
    response = post_json(
        admin_api,
        AGREEMENTS,
        _body(
            organisation,
            partner,
            recorded_by=someone.pk,
            recorded_at="2001-02-03T04:05:06Z",
            in_force=False,
            id=987654,
        ),
    )
    assert response.status_code == 201, response.content
    agreement = DataSharingAgreement.objects.get()
    assert agreement.recorded_by == admin.user
    assert agreement.pk != 987654
    assert agreement.recorded_at.year != 2001


def test_filters(admin_api, organisation, partner, clock):
    # The clock is 1 June 2026 in London.
    current = _agreement(organisation, partner)
    ended = _agreement(organisation, partner, starts_on=date(2024, 1, 1), ends_on=date(2026, 6, 1))
    inbound = _agreement(partner, organisation, starts_on=date(2026, 7, 1))

    assert sorted(_ids(admin_api.get(AGREEMENTS, {"in_force": "true"}))) == [current.pk]
    assert sorted(_ids(admin_api.get(AGREEMENTS, {"in_force": "false"}))) == sorted(
        [ended.pk, inbound.pk]
    )
    assert _ids(admin_api.get(AGREEMENTS, {"sharing_organisation": partner.pk})) == [inbound.pk]
    assert sorted(
        _ids(admin_api.get(AGREEMENTS, {"receiving_organisation": partner.pk}))
    ) == sorted([current.pk, ended.pk])
    listed = {row["id"]: row["in_force"] for row in admin_api.get(AGREEMENTS).json()["results"]}
    assert listed == {current.pk: True, ended.pk: False, inbound.pk: False}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"in_force": "soon"}, "in_force"),
        ({"receiving_organisation": "x"}, "receiving_organisation"),
    ],
)
def test_a_filter_it_cannot_use_is_a_400(admin_api, query, field):
    assert field in assert_error(admin_api.get(AGREEMENTS, query), 400)["fields"]


def test_there_is_no_delete(admin_api, organisation, partner):
    agreement = _agreement(organisation, partner)
    assert admin_api.delete(f"{AGREEMENTS}{agreement.pk}/").status_code == 405
    assert DataSharingAgreement.objects.filter(pk=agreement.pk).exists()
