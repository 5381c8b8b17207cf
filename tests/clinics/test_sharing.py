"""Data-sharing agreements widen what a partner organisation's staff see, while in force."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinics.domain import DomainError
from clinics.governance import DataSharingAgreement
from clinics.models import Patient
from clinics.permissions import (
    contact_points_for,
    patients_for,
    reaches_organisation,
    scope_to_organisation,
)
from clinics.services import record_sharing_agreement
from outreach.permissions import bookings_for, messages_for, outcomes_for, waitlist_for
from referrals.permissions import chases_for, referrals_for
from tests import factories

pytestmark = pytest.mark.django_db

# NOW in tests/api_support.py is 1 June 2026 in London.
TODAY = date(2026, 6, 1)


@pytest.fixture
def trust():
    return factories.OrganisationFactory(name="Peterborough Health Trust")


@pytest.fixture
def charity():
    return factories.OrganisationFactory(name="Wildflowers")


@pytest.fixture
def care_at_trust(trust):
    """A trust patient with a booking, an outcome, a waiting-list entry, a message, a referral."""
    patient = factories.PatientFactory(organisation=trust)
    factories.ContactPointFactory(patient=patient)
    session = factories.OutreachSessionFactory(organisation=trust)
    booking = factories.BookingFactory(session=session, patient=patient)
    factories.VisitOutcomeFactory(booking=booking)
    factories.WaitlistEntryFactory(organisation=trust, patient=patient)
    factories.MessageFactory(organisation=trust, patient=patient, booking=booking)
    referral = factories.ReferralFactory(organisation=trust, patient=patient)
    factories.ReferralChaseFactory(referral=referral)
    return patient


SCOPES = [
    patients_for,
    contact_points_for,
    bookings_for,
    outcomes_for,
    waitlist_for,
    messages_for,
    referrals_for,
    chases_for,
]


def _seen(user) -> dict[str, int]:
    return {scope.__name__: scope(user).count() for scope in SCOPES}


def _agreement(trust, charity, **kwargs):
    return factories.DataSharingAgreementFactory(
        sharing_organisation=trust, receiving_organisation=charity, **kwargs
    )


def test_without_an_agreement_the_partner_sees_nothing(clock, make_staff, charity, care_at_trust):
    nurse = make_staff(charity)
    assert set(_seen(nurse.user).values()) == {0}


def test_an_agreement_in_force_shares_every_record_of_care(
    clock, make_staff, trust, charity, care_at_trust
):
    _agreement(trust, charity)
    nurse = make_staff(charity)
    assert set(_seen(nurse.user).values()) == {1}


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "shared"),
    [
        (TODAY, TODAY + timedelta(days=1), True),  # its first day
        (TODAY - timedelta(days=30), TODAY, False),  # it ends today: access stops today
        (TODAY - timedelta(days=60), TODAY - timedelta(days=30), False),  # expired
        (TODAY + timedelta(days=1), TODAY + timedelta(days=30), False),  # not started yet
    ],
)
def test_only_an_agreement_in_force_on_the_london_date_shares(
    clock, make_staff, trust, charity, care_at_trust, starts_on, ends_on, shared
):
    _agreement(trust, charity, starts_on=starts_on, ends_on=ends_on)
    nurse = make_staff(charity)
    assert patients_for(nurse.user).filter(pk=care_at_trust.pk).exists() is shared
    assert referrals_for(nurse.user).exists() is shared


def test_the_agreement_day_follows_london_not_utc(clock, make_staff, trust, charity, care_at_trust):
    _agreement(trust, charity, starts_on=TODAY + timedelta(days=1), ends_on=date(2026, 7, 1))
    nurse = make_staff(charity)
    # 23:30 UTC on 1 June is 00:30 on 2 June in London (BST): the agreement has started.
    clock.move_to("2026-06-01T23:30:00Z")
    assert patients_for(nurse.user).filter(pk=care_at_trust.pk).exists()


def test_one_way_shares_only_from_the_sharing_organisation(
    clock, make_staff, trust, charity, care_at_trust
):
    _agreement(trust, charity)
    charity_patient = factories.PatientFactory(organisation=charity)
    trust_nurse = make_staff(trust)
    assert not patients_for(trust_nurse.user).filter(pk=charity_patient.pk).exists()


def test_reciprocal_shares_both_ways(clock, make_staff, trust, charity, care_at_trust):
    _agreement(trust, charity, reciprocal=True)
    charity_patient = factories.PatientFactory(organisation=charity)
    assert patients_for(make_staff(trust).user).filter(pk=charity_patient.pk).exists()
    assert patients_for(make_staff(charity).user).filter(pk=care_at_trust.pk).exists()


def test_a_patients_only_agreement_does_not_share_their_care(
    clock, make_staff, trust, charity, care_at_trust
):
    _agreement(trust, charity, records=DataSharingAgreement.Records.PATIENTS)
    seen = _seen(make_staff(charity).user)
    assert seen.pop("patients_for") == 1
    assert seen.pop("contact_points_for") == 1
    assert set(seen.values()) == {0}


def test_a_third_organisation_gains_nothing(clock, make_staff, trust, charity, care_at_trust):
    _agreement(trust, charity, reciprocal=True)
    outsider = make_staff(factories.OrganisationFactory())
    assert set(_seen(outsider.user).values()) == {0}


def test_analysts_see_no_people_even_under_an_agreement(
    clock, make_staff, trust, charity, care_at_trust
):
    _agreement(trust, charity)
    assert set(_seen(make_staff(charity, "analyst").user).values()) == {0}


def test_the_shared_patient_list_is_one_query(
    clock, make_staff, client_for, trust, charity, care_at_trust, django_assert_num_queries
):
    _agreement(trust, charity)
    nurse = make_staff(charity)
    with django_assert_num_queries(1):
        assert list(patients_for(nurse.user)) == [care_at_trust]


def test_api_shows_a_shared_patient_and_404s_another(
    clock, make_staff, client_for, trust, charity, care_at_trust
):
    _agreement(trust, charity)
    other = factories.PatientFactory()
    client = client_for(make_staff(charity))
    assert client.get(f"/api/v1/patients/{care_at_trust.pk}/").status_code == 200
    assert client.get(f"/api/v1/patients/{other.pk}/").status_code == 404
    listed = [row["id"] for row in client.get("/api/v1/patients/").json()["results"]]
    assert listed == [care_at_trust.pk]


def test_the_end_must_follow_the_start_and_no_one_shares_with_itself(trust):
    agreement = DataSharingAgreement(
        sharing_organisation=trust,
        receiving_organisation=trust,
        purpose="x",
        starts_on=TODAY,
        ends_on=TODAY,
    )
    with pytest.raises(ValidationError) as error:
        agreement.clean()
    assert set(error.value.message_dict) == {"ends_on", "receiving_organisation"}


@pytest.mark.parametrize("problem", ["backwards", "self"])
def test_the_database_refuses_a_backwards_or_self_agreement(trust, charity, problem):
    fields = {"sharing_organisation": trust, "receiving_organisation": charity}
    if problem == "backwards":
        fields["ends_on"] = TODAY - timedelta(days=1)
    else:
        fields["receiving_organisation"] = trust
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.DataSharingAgreementFactory(starts_on=TODAY, **fields)


def test_an_admin_shares_only_their_own_organisations_records(make_staff, trust, charity):
    admin = make_staff(charity, "admin")
    taking = DataSharingAgreement(
        sharing_organisation=trust,
        receiving_organisation=charity,
        purpose="Joint care",
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=365),
    )
    with pytest.raises(DomainError) as error:
        record_sharing_agreement(taking, by=admin.user)
    assert error.value.code == "not_your_records"
    taking.sharing_organisation, taking.receiving_organisation = charity, trust
    taking.reciprocal = True
    with pytest.raises(DomainError) as error:
        record_sharing_agreement(taking, by=admin.user)
    assert error.value.code == "reciprocal_needs_superuser"
    taking.reciprocal = False
    saved = record_sharing_agreement(taking, by=admin.user)
    assert saved.recorded_by == admin.user
    assert saved.history.get().history_user == admin.user


@pytest.mark.parametrize("role", ["nurse", "coordinator", "analyst", "superuser", "no_staff"])
@pytest.mark.parametrize("shared", [None, DataSharingAgreement.Records.PATIENTS])
@pytest.mark.parametrize("person_level", [True, False])
def test_reaches_organisation_agrees_with_the_scope_it_mirrors(role, shared, person_level):
    """`reaches_organisation` asks of one row what `scope_to_organisation` filters a list by."""
    own, partner, stranger, one_way = (factories.OrganisationFactory() for _ in range(4))
    # The partner shares with us; we share with `one_way`, which gives us nothing back.
    factories.DataSharingAgreementFactory(sharing_organisation=partner, receiving_organisation=own)
    factories.DataSharingAgreementFactory(sharing_organisation=own, receiving_organisation=one_way)
    if role == "superuser":
        user = factories.UserFactory(is_superuser=True)
    elif role == "no_staff":
        user = factories.UserFactory()
    else:
        user = factories.StaffMemberFactory(organisation=own, role=role).user
    for organisation in (own, partner, stranger, one_way):
        patient = factories.PatientFactory(organisation=organisation)
        listed = scope_to_organisation(
            Patient.objects.filter(pk=patient.pk),
            user,
            person_level=person_level,
            shared=shared,
        ).exists()
        assert (
            reaches_organisation(user, organisation.pk, person_level=person_level, shared=shared)
            == listed
        ), organisation
