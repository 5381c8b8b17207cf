"""Onward referrals, followed until they close."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clinics.models import Organisation, Patient, choices_check
from outreach.models import Booking, OutreachSession, VisitOutcome


class DestinationCategory(models.TextChoices):
    GP_REGISTRATION = "gp_registration", "GP registration"
    SEXUAL_HEALTH = "sexual_health", "Sexual health"
    COLPOSCOPY = "colposcopy", "Colposcopy"
    HEPATITIS_C = "hepatitis_c", "Hepatitis C treatment"
    OPTOMETRY = "optometry", "Optometry"
    MENTAL_HEALTH = "mental_health", "Mental health"
    DRUG_ALCOHOL = "drug_alcohol", "Drug and alcohol"
    DENTISTRY = "dentistry", "Dentistry"
    MATERNITY = "maternity", "Maternity"
    CITIZENS_ADVICE = "citizens_advice", "Citizens Advice"
    HOUSING = "housing", "Housing options"
    DEBT_ADVICE = "debt_advice", "Debt advice"
    FOOD_BANK = "food_bank", "Food bank"
    EMPLOYMENT = "employment", "Employment support"
    BEFRIENDING = "befriending", "Befriending"
    WELLBEING_HUB = "wellbeing_hub", "Wellbeing hub"
    OTHER = "other", "Other"


class DestinationRoute(models.TextChoices):
    ERS = "ers", "NHS e-Referral Service"
    NHSMAIL = "nhsmail", "NHSmail"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Online portal"
    WALK_IN = "walk_in", "Walk-in"


class Destination(models.Model):
    """A service people are referred on to: an NHS service or a community one."""

    Category = DestinationCategory

    NHS_CATEGORIES = {
        Category.GP_REGISTRATION,
        Category.SEXUAL_HEALTH,
        Category.COLPOSCOPY,
        Category.HEPATITIS_C,
        Category.OPTOMETRY,
        Category.MENTAL_HEALTH,
        Category.DRUG_ALCOHOL,
        Category.DENTISTRY,
        Category.MATERNITY,
    }

    Route = DestinationRoute

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=30, choices=Category.choices)
    provider = models.CharField(max_length=200, blank=True, help_text="Who runs the service.")
    description = models.TextField(blank=True)
    route = models.CharField(max_length=20, choices=Route.choices)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    url = models.URLField(blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    area = models.CharField(max_length=120, blank=True, help_text="The area it serves.")
    response_target_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How many days a routine referral should take to get a response.",
    )
    eligibility_notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_check("category", DestinationCategory, "destination_category_valid"),
            choices_check("route", DestinationRoute, "destination_route_valid"),
            models.CheckConstraint(
                condition=Q(response_target_days__gte=1, response_target_days__lte=365),
                name="destination_response_target_range",
            ),
            models.UniqueConstraint(fields=["name", "area"], name="destination_unique_name_area"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.area})" if self.area else self.name

    @property
    def is_nhs(self) -> bool:
        return self.category in self.NHS_CATEGORIES


class ReferralQuerySet(models.QuerySet["Referral"]):
    def open(self) -> "ReferralQuerySet":
        return self.filter(status__in=Referral.OPEN_STATUSES)

    def overdue(self, today: date) -> "ReferralQuerySet":
        """Sent and still waiting for an answer after the due date."""
        return self.filter(status=Referral.Status.SENT, due_date__lt=today)

    def accepted_not_booked(self, before: datetime) -> "ReferralQuerySet":
        """Accepted before `before` and still without an appointment."""
        return self.filter(status=Referral.Status.ACCEPTED, responded_at__lt=before)

    def attended_not_closed(self) -> "ReferralQuerySet":
        return self.filter(status=Referral.Status.ATTENDED)

    def made_by(self, user: object) -> "ReferralQuerySet":
        return self.open().filter(referrer=user)


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LOST = "lost_to_follow_up", "Lost to follow-up"


class ReferralPriority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    TWO_WEEK_WAIT = "two_week_wait", "Two-week wait"


class ReferralRejectionReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    NO_CAPACITY = "no_capacity", "No capacity"
    DUPLICATE = "duplicate", "Duplicate referral"
    OTHER = "other", "Other"


class ReferralConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbal"
    WRITTEN = "written", "Written"
    ELECTRONIC = "electronic", "Electronic"


class Referral(models.Model):
    Status = ReferralStatus
    Priority = ReferralPriority
    RejectionReason = ReferralRejectionReason
    ConsentMethod = ReferralConsentMethod

    OPEN_STATUSES = (Status.DRAFT, Status.SENT, Status.ACCEPTED, Status.BOOKED, Status.ATTENDED)
    _LEAVE = {Status.WITHDRAWN, Status.LOST}
    NEXT_STATUSES = {
        Status.DRAFT: {Status.SENT, Status.WITHDRAWN},
        Status.SENT: {Status.ACCEPTED, Status.REJECTED} | _LEAVE,
        Status.ACCEPTED: {Status.BOOKED} | _LEAVE,
        Status.BOOKED: {Status.ATTENDED} | _LEAVE,
        Status.ATTENDED: {Status.CLOSED} | _LEAVE,
        Status.REJECTED: set(),
        Status.CLOSED: set(),
        Status.WITHDRAWN: set(),
        Status.LOST: set(),
    }
    # How much sooner than the destination's routine target each priority is due.
    PRIORITY_DAYS = {Priority.URGENT: 2, Priority.TWO_WEEK_WAIT: 14}

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals",
        help_text="The referring organisation.",
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="referrals")
    source_session = models.ForeignKey(
        OutreachSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    source_booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    source_outcome = models.ForeignKey(
        VisitOutcome, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    reason = models.TextField()
    priority = models.CharField(max_length=20, choices=Priority.choices, default=Priority.ROUTINE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    consent_to_share = models.BooleanField(default=False)
    consent_method = models.CharField(max_length=20, choices=ConsentMethod.choices, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    appointment_at = models.DateTimeField(
        null=True, blank=True, help_text="The appointment the destination booked."
    )
    attended_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateField(
        null=True,
        blank=True,
        help_text="Set by the nightly sweep when a sent referral passes its due date unanswered.",
    )
    rejection_reason = models.CharField(max_length=20, choices=RejectionReason.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    previous_referral = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="re_referrals",
        help_text="The rejected referral this one re-refers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_check("status", ReferralStatus, "referral_status_valid"),
            choices_check("priority", ReferralPriority, "referral_priority_valid"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="referral_rejection_has_reason",
            ),
            # Nothing leaves the building without the person's recorded consent.
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(status="withdrawn", sent_at__isnull=True)
                | Q(consent_to_share=True, consent_recorded_at__isnull=False),
                name="referral_sent_has_consent",
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=["sent", "accepted", "rejected", "booked", "attended", "closed"]
                )
                | Q(sent_at__isnull=False),
                name="referral_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(previous_referral=models.F("id")),
                name="referral_not_its_own_previous",
            ),
        ]
        indexes = [
            # The overdue worklist and the nightly sweep: one organisation, one status, by date.
            models.Index(fields=["organisation", "status", "due_date"]),
            models.Index(fields=["destination", "status"]),
            # "Accepted but not booked after N days" reads by response time.
            models.Index(fields=["organisation", "status", "responded_at"]),
            models.Index(fields=["referrer", "status"]),
            # Reports read one organisation's referrals sent in a date range.
            models.Index(fields=["organisation", "sent_at"], name="referral_org_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk} to {self.destination.name} ({self.get_status_display()})"

    def compute_due_date(self, sent_on: date) -> date:
        """When a response is due: the destination's target, or sooner for priority referrals."""
        target = self.destination.response_target_days
        days = min(target, self.PRIORITY_DAYS.get(self.Priority(self.priority), target))
        return sent_on + timedelta(days=days)


class ReferralChaseChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    NHSMAIL = "nhsmail", "NHSmail"
    PORTAL = "portal", "Portal"
    IN_PERSON = "in_person", "In person"


class ReferralChaseOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    AWAITING = "awaiting", "Still awaiting a decision"
    RESPONSE = "response", "Got a response"


class ReferralChase(models.Model):
    """One attempt to find out what happened to a referral."""

    Channel = ReferralChaseChannel
    Outcome = ReferralChaseOutcome

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="chases")
    chased_at = models.DateTimeField()
    chased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-chased_at", "-id"]
        constraints = [
            choices_check("channel", ReferralChaseChannel, "referralchase_channel_valid"),
            choices_check("outcome", ReferralChaseOutcome, "referralchase_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"Chase of referral #{self.referral_id}: {self.get_outcome_display()}"


class ReferralRule(models.Model):
    """A result that suggests a referral: kept as data so clinical leads can change it.

    Keyed on the service type's code rather than a foreign key, so the rules named in the
    issue can be seeded by a migration before any service type exists.
    """

    service_code = models.SlugField(max_length=50, help_text="The service type's code.")
    result = models.CharField(max_length=20, choices=VisitOutcome.Result.choices)
    destination_category = models.CharField(max_length=30, choices=DestinationCategory.choices)
    priority = models.CharField(
        max_length=20, choices=ReferralPriority.choices, default=ReferralPriority.ROUTINE
    )
    reason = models.CharField(max_length=200, help_text="Suggested wording for the referral.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service_code", "result", "destination_category"]
        constraints = [
            choices_check("result", VisitOutcome.Result, "referralrule_result_valid"),
            choices_check(
                "destination_category", DestinationCategory, "referralrule_category_valid"
            ),
            choices_check("priority", ReferralPriority, "referralrule_priority_valid"),
            models.UniqueConstraint(
                fields=["service_code", "result", "destination_category"],
                name="referralrule_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} {self.result} -> {self.destination_category}"


# Defined in its own module to keep this one about referrals; imported so Django finds it.
from referrals.jobs.models import BackgroundJob  # noqa: E402, F401
