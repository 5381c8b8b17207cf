"""factory_boy factories for every model; each test builds what it needs from these."""

from datetime import UTC, date, datetime, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinics.governance import AccessLogEntry, DataSharingAgreement
from clinics.models import (
    ApiToken,
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    ServiceType,
    StaffMember,
    Venue,
)
from outreach.models import (
    Booking,
    InboundMessage,
    Message,
    MessageTemplate,
    OutreachSession,
    SessionSeries,
    StaffAssignment,
    VisitOutcome,
    WaitlistEntry,
)
from referrals.models import BackgroundJob, Destination, Referral, ReferralChase

# A fixed Monday morning, so tests do not depend on the day they run.
BASE_TIME = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.nhs.uk")
    is_staff = True
    password = factory.django.Password("correct-horse-battery")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Outreach Trust {n}")
    kind = Organisation.Kind.NHS_TRUST


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType

    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    default_duration_minutes = 15


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = StaffMember.Role.NURSE


class MobileUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MobileUnit

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Health bus {n}")
    registration = factory.Sequence(lambda n: f"HB{n:02d}BUS")
    capacity = 2


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Community centre {n}")
    kind = Venue.Kind.COMMUNITY_CENTRE
    town = "Peterborough"
    postcode = "PE1 1HF"
    imd_decile = 2


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    organisation = factory.SubFactory(OrganisationFactory)
    preferred_name = factory.Faker("first_name")
    year_of_birth = 1985


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    patient = factory.SubFactory(PatientFactory)
    channel = ContactPoint.Channel.SMS
    value = factory.Sequence(lambda n: f"+447123456{n % 1000:03d}")
    consent_given = True
    consent_recorded_at = factory.LazyFunction(timezone.now)


class SessionSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionSeries

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Weekly clinic {n}")
    venue = factory.SubFactory(VenueFactory, organisation=factory.SelfAttribute("..organisation"))
    weekdays = factory.LazyFunction(lambda: [0])
    start_date = date(2026, 6, 1)
    start_time = time(10, 0)
    end_time = time(14, 0)


class OutreachSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutreachSession

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Clinic {n}")
    venue = factory.SubFactory(VenueFactory, organisation=factory.SelfAttribute("..organisation"))
    starts_at = BASE_TIME
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(hours=4))
    lanes = 2
    slot_minutes = 15


class StaffAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAssignment

    session = factory.SubFactory(OutreachSessionFactory)
    staff = factory.SubFactory(
        StaffMemberFactory, organisation=factory.SelfAttribute("..session.organisation")
    )
    starts_at = factory.SelfAttribute("session.starts_at")
    ends_at = factory.SelfAttribute("session.ends_at")


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    session = factory.SubFactory(OutreachSessionFactory)
    patient = factory.SubFactory(
        PatientFactory, organisation=factory.SelfAttribute("..session.organisation")
    )
    service_type = factory.SubFactory(ServiceTypeFactory)
    starts_at = factory.SelfAttribute("session.starts_at")
    ends_at = factory.LazyAttribute(lambda b: b.starts_at + timedelta(minutes=15))
    lane = 1


class VisitOutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitOutcome

    booking = factory.SubFactory(
        BookingFactory, status=Booking.Status.FULFILLED, arrived_at=BASE_TIME
    )
    outcome = VisitOutcome.Outcome.COMPLETED


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    organisation = factory.SubFactory(OrganisationFactory)
    patient = factory.SubFactory(
        PatientFactory, organisation=factory.SelfAttribute("..organisation")
    )
    service_type = factory.SubFactory(ServiceTypeFactory)


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    purpose = MessageTemplate.Purpose.REMINDER
    channel = ContactPoint.Channel.SMS
    body = "Hello {{ first_name }}, see you at {{ time }}. Reply C to confirm, X to cancel."


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    organisation = factory.SubFactory(OrganisationFactory)
    patient = factory.SubFactory(
        PatientFactory, organisation=factory.SelfAttribute("..organisation")
    )
    channel = ContactPoint.Channel.SMS
    to = "+447700900123"
    body = "Reminder: you have an appointment tomorrow at 10:00."
    send_after = BASE_TIME
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")


class InboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundMessage

    provider_id = factory.Sequence(lambda n: f"inbound-{n}")
    from_number = "+447123456789"
    body = "C"
    received_at = BASE_TIME
    action = InboundMessage.Action.CONFIRMED


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    name = factory.Sequence(lambda n: f"Sexual health clinic {n}")
    category = Destination.Category.SEXUAL_HEALTH
    route = Destination.Route.NHSMAIL
    response_target_days = 14


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    organisation = factory.SubFactory(OrganisationFactory)
    patient = factory.SubFactory(
        PatientFactory, organisation=factory.SelfAttribute("..organisation")
    )
    destination = factory.SubFactory(DestinationFactory)
    referrer = factory.SubFactory(UserFactory)
    reason = "Reactive dry blood spot test: needs hepatitis C treatment."
    consent_to_share = True
    consent_method = Referral.ConsentMethod.VERBAL
    consent_recorded_at = factory.LazyFunction(timezone.now)


class ReferralChaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralChase

    referral = factory.SubFactory(ReferralFactory)
    chased_at = factory.LazyFunction(timezone.now)
    channel = ReferralChase.Channel.PHONE
    outcome = ReferralChase.Outcome.NO_ANSWER


class DataSharingAgreementFactory(factory.django.DjangoModelFactory):
    """One-way, for patients and their care, in force from a year before BASE_TIME for two."""

    class Meta:
        model = DataSharingAgreement

    sharing_organisation = factory.SubFactory(OrganisationFactory)
    receiving_organisation = factory.SubFactory(OrganisationFactory)
    records = DataSharingAgreement.Records.CARE
    purpose = "Joint care of people sleeping rough seen on the health bus."
    starts_on = date(2025, 6, 1)
    ends_on = date(2027, 6, 1)
    recorded_by = factory.SubFactory(UserFactory)


class AccessLogEntryFactory(factory.Factory):
    """An entry written the only way entries are written: through record_patient_access."""

    class Meta:
        model = AccessLogEntry

    user = factory.SubFactory(UserFactory)
    patient = factory.SubFactory(PatientFactory)
    action = AccessLogEntry.Action.VIEW
    via = AccessLogEntry.Via.COMMAND

    @classmethod
    def _create(cls, model_class, user, patient, action, via, **kwargs):
        from clinics.access_log import record_patient_access

        return record_patient_access(user, patient, action=action, via=via, **kwargs)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; use clinics.tokens.create_api_token for one whose secret you need."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    key_id = factory.Sequence(lambda n: f"{n:012x}")
    secret_hash = "0" * 64
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda t: t.created_at + timedelta(days=30))


class BackgroundJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BackgroundJob

    kind = BackgroundJob.Kind.DIRECTORY_EXPORT
    organisation = factory.SubFactory(OrganisationFactory)
    requested_by = factory.SubFactory(UserFactory)
