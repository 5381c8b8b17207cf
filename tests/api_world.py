"""One set of records per organisation scope, built once per test module.

The authorisation matrix and the mass-assignment tests both need one of everything: a patient,
a booking, a referral... in the signed-in user's organisation ("own"), in an unrelated one
("other"), and in a "partner" that shares its patients and their care with "own" under a
data-sharing agreement in force. Building it for each of two thousand cases would take minutes;
building it once per module inside a transaction that is rolled back at the end, with each
test in a savepoint, keeps the module to seconds and leaves nothing behind.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from clinics.governance import DataSharingAgreement
from clinics.models import Organisation, StaffMember
from outreach.models import Booking, InboundMessage
from referrals.models import BackgroundJob, Referral
from tests import factories

# Every role a member of staff may have. A new role is a new entry here (and its group in
# clinics/roles.py); the matrix then asks for its column in every rule.
ROLES = [role.value for role in StaffMember.Role]


@dataclass
class World:
    """Per scope ("own", "other", "partner"), one organisation's records; users by role of "own"."""

    scopes: dict[str, SimpleNamespace] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    staff: dict[str, StaffMember] = field(default_factory=dict)
    shared: SimpleNamespace = field(default_factory=SimpleNamespace)

    def record(self, scope: str, basename: str) -> Any:
        """The record a route's basename names ("booking", "patient"...) in that scope."""
        records = self.scopes[scope]
        return getattr(records, basename, None) or getattr(self.shared, basename)


def build_records(organisation: Organisation, shared: SimpleNamespace) -> SimpleNamespace:
    """One of each person-level and organisation-level record of `organisation`."""
    nurse = factories.StaffMemberFactory(organisation=organisation, role=StaffMember.Role.NURSE)
    unit = factories.MobileUnitFactory(organisation=organisation)
    unit.supported_services.add(shared.servicetype)
    venue = factories.VenueFactory(organisation=organisation)
    patient = factories.PatientFactory(organisation=organisation, sex="female")
    contact = factories.ContactPointFactory(patient=patient)
    newcomer = factories.PatientFactory(organisation=organisation)  # booked into nothing yet
    series = factories.SessionSeriesFactory(organisation=organisation, venue=venue)
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=factories.BASE_TIME + timedelta(days=7),
    )
    session.services.add(shared.servicetype)
    booking = factories.BookingFactory(
        session=session, patient=patient, service_type=shared.servicetype
    )
    seen = factories.BookingFactory(
        session=session,
        patient=factories.PatientFactory(organisation=organisation),
        service_type=shared.servicetype,
        lane=2,
        status=Booking.Status.FULFILLED,
        arrived_at=session.starts_at,
    )
    outcome = factories.VisitOutcomeFactory(booking=seen)
    waitlist = factories.WaitlistEntryFactory(
        organisation=organisation, patient=patient, service_type=shared.servicetype
    )
    message = factories.MessageFactory(organisation=organisation, patient=patient)
    referral = factories.ReferralFactory(
        organisation=organisation,
        patient=patient,
        destination=shared.destination,
        referrer=nurse.user,
        status=Referral.Status.SENT,
        sent_at=factories.BASE_TIME,
        due_date=factories.BASE_TIME.date() + timedelta(days=14),
    )
    factories.ReferralChaseFactory(referral=referral)
    reply = factories.InboundMessageFactory(
        organisation=organisation,
        patient=patient,
        booking=booking,
        body="Can I bring my dog?",
        action=InboundMessage.Action.UNKNOWN,
    )
    # Shared with an organisation of its own, so it widens no one's view of the other scope.
    agreement = factories.DataSharingAgreementFactory(
        sharing_organisation=organisation, recorded_by=nurse.user
    )
    # A colleague's API token, and a finished directory export with a file to download.
    token = factories.ApiTokenFactory(user=nurse.user)
    job = factories.BackgroundJobFactory(
        organisation=organisation,
        requested_by=nurse.user,
        status=BackgroundJob.Status.DONE,
        finished_at=factories.BASE_TIME,
        result_data="{}",
        result_filename="directory.json",
        result_content_type="application/json",
    )
    return SimpleNamespace(
        organisation=organisation,
        staffmember=nurse,
        mobileunit=unit,
        venue=venue,
        patient=patient,
        newcomer=newcomer,
        contactpoint=contact,
        series=series,
        session=session,
        booking=booking,
        visitoutcome=outcome,
        waitlist=waitlist,
        message=message,
        referral=referral,
        reply=reply,
        sharingagreement=agreement,
        apitoken=token,
        job=job,
    )


def build_world() -> World:
    shared = SimpleNamespace(
        servicetype=factories.ServiceTypeFactory(),
        destination=factories.DestinationFactory(),
        messagetemplate=factories.MessageTemplateFactory(),
    )
    world = World(shared=shared)
    own = factories.OrganisationFactory()
    world.scopes["own"] = build_records(own, shared)
    world.scopes["other"] = build_records(factories.OrganisationFactory(), shared)
    partner = factories.OrganisationFactory()
    world.scopes["partner"] = build_records(partner, shared)
    # One-way: the partner (the controller) shares its patients and their care with "own".
    factories.DataSharingAgreementFactory(
        sharing_organisation=partner,
        receiving_organisation=own,
        records=DataSharingAgreement.Records.CARE,
    )
    for role in ROLES:
        staff = factories.StaffMemberFactory(organisation=own, role=role)
        staff.user.groups.add(Group.objects.get(name=staff.group_name))
        world.staff[role] = staff
        world.users[role] = staff.user
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The records, built once for the module and rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
