"""Every query starts scoped to the user: another organisation's records are simply not there."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from clinics.models import Organisation, StaffMember
from clinics.permissions import get_patient_for, patients_for
from outreach.permissions import (
    bookings_for,
    get_booking_for,
    get_session_for,
    messages_for,
    outcomes_for,
    series_for,
    sessions_for,
    waitlist_for,
)
from referrals.permissions import chases_for, get_referral_for, referrals_for
from tests import factories

pytestmark = pytest.mark.django_db

PERSON_LEVEL = {
    "patients": patients_for,
    "bookings": bookings_for,
    "outcomes": outcomes_for,
    "waitlist": waitlist_for,
    "messages": messages_for,
    "referrals": referrals_for,
    "chases": chases_for,
}
AGGREGATE_LEVEL = {"sessions": sessions_for, "series": series_for}
ALL_SCOPES = {**PERSON_LEVEL, **AGGREGATE_LEVEL}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class OrganisationRecords:
    organisation: Organisation
    records: dict[str, object]


def _records_of(organisation: Organisation) -> OrganisationRecords:
    session = factories.OutreachSessionFactory(organisation=organisation)
    outcome = factories.VisitOutcomeFactory(booking__session=session)
    booking = outcome.booking
    referral = factories.ReferralFactory(organisation=organisation, patient=booking.patient)
    return OrganisationRecords(
        organisation,
        {
            "patients": booking.patient,
            "bookings": booking,
            "outcomes": outcome,
            "waitlist": factories.WaitlistEntryFactory(
                organisation=organisation, patient=booking.patient
            ),
            "messages": factories.MessageFactory(
                organisation=organisation, patient=booking.patient
            ),
            "referrals": referral,
            "chases": factories.ReferralChaseFactory(referral=referral),
            "sessions": session,
            "series": factories.SessionSeriesFactory(organisation=organisation),
        },
    )


@pytest.fixture
def org_a() -> OrganisationRecords:
    return _records_of(factories.OrganisationFactory(name="Peterborough Outreach"))


@pytest.fixture
def org_b() -> OrganisationRecords:
    return _records_of(factories.OrganisationFactory(name="Fenland Outreach"))


def _staff_user(organisation: Organisation, role: str = StaffMember.Role.NURSE, **staff_fields):
    return factories.StaffMemberFactory(organisation=organisation, role=role, **staff_fields).user


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_nurse_sees_her_organisations_records_and_none_of_anothers(scope, org_a, org_b):
    nurse = _staff_user(org_a.organisation)
    assert list(ALL_SCOPES[scope](nurse)) == [org_a.records[scope]]


@pytest.mark.parametrize(
    "role",
    [
        StaffMember.Role.HCA,
        StaffMember.Role.OUTREACH_WORKER,
        StaffMember.Role.COORDINATOR,
        StaffMember.Role.ADMIN,
    ],
)
def test_every_clinical_and_office_role_sees_its_own_organisations_patients(role, org_a, org_b):
    user = _staff_user(org_a.organisation, role=role)
    assert list(patients_for(user)) == [org_a.records["patients"]]


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_superuser_sees_every_organisations_records(scope, org_a, org_b):
    superuser = factories.UserFactory(is_superuser=True)
    assert set(ALL_SCOPES[scope](superuser)) == {org_a.records[scope], org_b.records[scope]}


@pytest.mark.parametrize("scope", PERSON_LEVEL)
def test_an_analyst_sees_no_person_level_records(scope, org_a, org_b):
    analyst = _staff_user(org_a.organisation, role=StaffMember.Role.ANALYST)
    assert list(PERSON_LEVEL[scope](analyst)) == []


@pytest.mark.parametrize("scope", AGGREGATE_LEVEL)
def test_an_analyst_sees_her_organisations_sessions_and_series(scope, org_a, org_b):
    analyst = _staff_user(org_a.organisation, role=StaffMember.Role.ANALYST)
    assert list(AGGREGATE_LEVEL[scope](analyst)) == [org_a.records[scope]]


def _inactive_user(organisation: Organisation):
    user = _staff_user(organisation)
    user.is_active = False
    user.save()
    return user


def _inactive_staff(organisation: Organisation):
    return _staff_user(organisation, is_active=False)


def _no_staff_record(organisation: Organisation):
    return factories.UserFactory()


def _inactive_superuser(organisation: Organisation):
    return factories.UserFactory(is_superuser=True, is_active=False)


def _anonymous(organisation: Organisation):
    return AnonymousUser()


@pytest.mark.parametrize(
    "make_user",
    [_inactive_user, _inactive_staff, _no_staff_record, _inactive_superuser, _anonymous],
)
@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_a_user_without_an_active_staff_record_sees_nothing(scope, make_user, org_a, org_b):
    user = make_user(org_a.organisation)
    assert list(ALL_SCOPES[scope](user)) == []


def test_get_patient_for_finds_a_patient_of_the_users_organisation(org_a, org_b):
    nurse = _staff_user(org_a.organisation)
    patient = org_a.records["patients"]
    assert get_patient_for(nurse, patient.pk) == patient


def test_get_patient_for_another_organisations_patient_is_a_404(org_a, org_b):
    nurse = _staff_user(org_a.organisation)
    with pytest.raises(Http404):
        get_patient_for(nurse, org_b.records["patients"].pk)


@pytest.mark.parametrize(
    ("get_for", "scope"),
    [(get_booking_for, "bookings"), (get_session_for, "sessions"), (get_referral_for, "referrals")],
)
def test_fetching_another_organisations_record_by_id_is_a_404(get_for, scope, org_a, org_b):
    nurse = _staff_user(org_a.organisation)
    assert get_for(nurse, org_a.records[scope].pk) == org_a.records[scope]
    with pytest.raises(Http404):
        get_for(nurse, org_b.records[scope].pk)


def test_staff_messages_without_a_patient_stay_in_their_organisation(org_a, org_b):
    nurse = _staff_user(org_a.organisation)
    digest = factories.MessageFactory(
        organisation=org_b.organisation, patient=None, recipient_user=factories.UserFactory()
    )
    assert digest not in messages_for(nurse)
    assert digest in messages_for(_staff_user(org_b.organisation))
