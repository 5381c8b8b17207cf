"""The admin of data-sharing agreements and of the read-only access log."""

import pytest
from django.urls import reverse

from clinics.governance import AccessLogEntry, DataSharingAgreement
from tests import factories

pytestmark = pytest.mark.django_db


def _url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:clinics_{model}_{view}", args=args)


def _form(sharing, receiving, **extra):
    return {
        "sharing_organisation": sharing.pk,
        "receiving_organisation": receiving.pk,
        "records": "care",
        "purpose": "Joint care of people seen on the bus",
        "starts_on": "2026-06-01",
        "ends_on": "2027-06-01",
        **extra,
    }


def test_an_admin_records_an_agreement_sharing_their_own_records(
    clock, organisation, make_staff, client_for
):
    partner = factories.OrganisationFactory()
    admin = make_staff(organisation, "admin")
    response = client_for(admin).post(
        _url("datasharingagreement", "add"), _form(organisation, partner)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    agreement = DataSharingAgreement.objects.get()
    assert agreement.recorded_by == admin.user
    assert agreement.history.get().history_user == admin.user


@pytest.mark.parametrize("problem", ["not_ours", "reciprocal", "backwards"])
def test_the_form_refuses_what_an_admin_may_not_record(
    clock, organisation, make_staff, client_for, problem
):
    partner = factories.OrganisationFactory()
    data = {
        "not_ours": _form(partner, organisation),
        "reciprocal": _form(organisation, partner, reciprocal="on"),
        "backwards": _form(organisation, partner, ends_on="2026-05-01"),
    }[problem]
    response = client_for(make_staff(organisation, "admin")).post(
        _url("datasharingagreement", "add"), data
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not DataSharingAgreement.objects.exists()


def test_the_access_log_admin_is_read_only_even_for_superusers(client, organisation):
    superuser = factories.UserFactory(is_superuser=True)
    entry = factories.AccessLogEntryFactory(user=superuser)
    client.force_login(superuser)
    assert client.get(_url("accesslogentry")).status_code == 200
    assert client.get(_url("accesslogentry", "add")).status_code == 403
    assert (
        client.post(_url("accesslogentry", "delete", entry.pk), {"post": "yes"}).status_code == 403
    )
    assert AccessLogEntry.objects.count() == 1


def test_auditors_see_their_organisations_entries_only(clock, organisation, make_staff, client_for):
    ours = factories.AccessLogEntryFactory(
        user=make_staff(organisation).user,
        patient=factories.PatientFactory(organisation=organisation),
    )
    factories.AccessLogEntryFactory()
    auditor = make_staff(organisation, "auditor", user__is_staff=True)
    response = client_for(auditor).get(_url("accesslogentry"))
    assert [row.pk for row in response.context["cl"].result_list] == [ours.pk]
