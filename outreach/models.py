"""Sessions, bookings, outcomes, the waiting list and the message outbox."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clinics.constraints import PostgresExclusionConstraint, TstzRange
from clinics.models import (
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    ServiceType,
    StaffMember,
    Venue,
    choices_check,
)


class BookingMode(models.TextChoices):
    APPOINTMENTS = "appointments", "Appointments only"
    WALK_IN = "walk_in", "Walk-in only"
    MIXED = "mixed", "Appointments and walk-ins"


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    WOMEN = "women", "Women only"
    MEN = "men", "Men only"


def validate_weekdays(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(
            not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in value
        )
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            "Choose at least one weekday, as numbers from 0 (Monday) to 6 (Sunday).",
            code="weekdays_invalid",
        )


class SessionSeries(models.Model):
    """A recurring clinic: "every Monday 10:00-14:00 at Cathedral Square, bus 1"."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="session_series"
    )
    name = models.CharField(max_length=200)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="session_series")
    mobile_unit = models.ForeignKey(
        MobileUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="session_series"
    )
    services = models.ManyToManyField(ServiceType, related_name="session_series")
    staff = models.ManyToManyField(
        StaffMember,
        blank=True,
        related_name="session_series",
        help_text="Assigned to each session.",
    )
    # Wall-clock times in Europe/London: a 10:00 clinic stays at 10:00 across clock changes.
    weekdays = models.JSONField(
        default=list, validators=[validate_weekdays], help_text="0 is Monday, 6 is Sunday."
    )
    interval_weeks = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    start_date = models.DateField()
    until_date = models.DateField(null=True, blank=True)
    occurrence_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Stop after this many sessions."
    )
    start_time = models.TimeField()
    end_time = models.TimeField()
    booking_mode = models.CharField(
        max_length=20, choices=BookingMode.choices, default=BookingMode.MIXED
    )
    slot_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    lanes = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="How many people can be seen at once.",
    )
    walk_in_share_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "session series"
        constraints = [
            choices_check("booking_mode", BookingMode, "sessionseries_booking_mode_valid"),
            choices_check("audience", Audience, "sessionseries_audience_valid"),
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="sessionseries_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(until_date__isnull=True) | Q(until_date__gte=models.F("start_date")),
                name="sessionseries_until_after_start",
            ),
            models.CheckConstraint(
                condition=Q(interval_weeks__gte=1, interval_weeks__lte=8),
                name="sessionseries_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="sessionseries_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(lanes__gte=1, lanes__lte=20), name="sessionseries_lanes_range"
            ),
            models.CheckConstraint(
                condition=Q(walk_in_share_percent__lte=100),
                name="sessionseries_walk_in_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OutreachSessionQuerySet(models.QuerySet["OutreachSession"]):
    def live(self) -> "OutreachSessionQuerySet":
        return self.exclude(status=OutreachSession.Status.CANCELLED)

    def on_day(self, day: "datetime") -> "OutreachSessionQuerySet":
        return self.filter(starts_at__date=day)


class OutreachSessionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class OutreachSession(models.Model):
    """One clinic at one place and time: a stop of the bus, a morning at a food bank."""

    Status = OutreachSessionStatus

    NEXT_STATUSES = {
        Status.PLANNED: {Status.CONFIRMED, Status.IN_PROGRESS, Status.CANCELLED},
        Status.CONFIRMED: {Status.PLANNED, Status.IN_PROGRESS, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sessions"
    )
    series = models.ForeignKey(
        SessionSeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    occurrence_date = models.DateField(
        null=True,
        blank=True,
        help_text="For a series: the date this occurrence was generated for, even if moved.",
    )
    detached = models.BooleanField(
        default=False,
        help_text="Edited on its own: changes to the whole series leave it alone.",
    )
    name = models.CharField(max_length=200)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="sessions")
    mobile_unit = models.ForeignKey(
        MobileUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    services = models.ManyToManyField(ServiceType, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    booking_mode = models.CharField(
        max_length=20, choices=BookingMode.choices, default=BookingMode.MIXED
    )
    slot_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    lanes = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    walk_in_share_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="The share of slots held back for people who walk in.",
    )
    minimum_notice_minutes = models.PositiveIntegerField(
        default=0, help_text="How long before a slot it can still be booked."
    )
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    cancellation_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = OutreachSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = "outreach session"
        constraints = [
            choices_check("status", OutreachSessionStatus, "outreachsession_status_valid"),
            choices_check("booking_mode", BookingMode, "outreachsession_booking_mode_valid"),
            choices_check("audience", Audience, "outreachsession_audience_valid"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="outreachsession_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240),
                name="outreachsession_slot_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(lanes__gte=1, lanes__lte=20), name="outreachsession_lanes_range"
            ),
            models.CheckConstraint(
                condition=Q(walk_in_share_percent__lte=100),
                name="outreachsession_walk_in_share_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancellation_reason=""),
                name="outreachsession_cancel_has_reason",
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_date"],
                condition=Q(series__isnull=False),
                name="outreachsession_one_per_series_date",
            ),
            # The bus cannot be in two places at once.
            PostgresExclusionConstraint(
                name="outreachsession_unit_no_overlap",
                expressions=[
                    ("mobile_unit", RangeOperators.EQUAL),
                    (TstzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(mobile_unit__isnull=False) & ~Q(status="cancelled"),
                violation_error_code="unit_clash",
                violation_error_message="This mobile unit is already out at another session then.",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "starts_at"])]

    def __str__(self) -> str:
        local = self.starts_at.astimezone(_london())
        return f"{self.name}, {local:%a %d %b %Y %H:%M}"


def _london() -> ZoneInfo:
    return ZoneInfo(settings.OUTREACH_TIME_ZONE)


class StaffAssignment(models.Model):
    """A staff member working a session.

    The session's times and whether it is live are copied here because an exclusion constraint
    can only look at one table: it is what stops a nurse being put in two places at once even
    when two coordinators plan at the same moment. The session services keep the copy in step.
    """

    session = models.ForeignKey(
        OutreachSession, on_delete=models.CASCADE, related_name="assignments"
    )
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="assignments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_live = models.BooleanField(default=True)

    class Meta:
        ordering = ["session__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "staff"], name="staffassignment_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="staffassignment_end_after_start",
            ),
            PostgresExclusionConstraint(
                name="staffassignment_staff_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    (TstzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(is_live=True),
                violation_error_code="staff_clash",
                violation_error_message="This person is already working another session then.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} at {self.session}"


class BookingQuerySet(models.QuerySet["Booking"]):
    def active(self) -> "BookingQuerySet":
        return self.filter(status__in=Booking.ACTIVE_STATUSES)


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    FULFILLED = "fulfilled", "Seen"
    NOSHOW = "noshow", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class BookingSource(models.TextChoices):
    BOOKED = "booked", "Booked ahead"
    WALK_IN = "walk_in", "Walk-in"
    SELF_REFERRAL = "self_referral", "Self-referral"


class BookingCancelledBy(models.TextChoices):
    PATIENT = "patient", "The patient"
    SERVICE = "service", "The service"


class BookingConfirmedVia(models.TextChoices):
    TEXT_REPLY = "text_reply", "Text reply"


class Booking(models.Model):
    """A person's place at a session. Statuses follow FHIR Appointment.status."""

    Status = BookingStatus
    Source = BookingSource
    CancelledBy = BookingCancelledBy
    ConfirmedVia = BookingConfirmedVia

    # A booking in one of these holds its lane and its patient's time.
    ACTIVE_STATUSES = (Status.BOOKED, Status.ARRIVED, Status.FULFILLED)
    NEXT_STATUSES = {
        Status.BOOKED: {
            Status.ARRIVED,
            Status.NOSHOW,
            Status.CANCELLED,
            Status.ENTERED_IN_ERROR,
        },
        Status.ARRIVED: {Status.FULFILLED, Status.BOOKED, Status.ENTERED_IN_ERROR},
        Status.FULFILLED: {Status.ENTERED_IN_ERROR},
        Status.NOSHOW: {Status.ARRIVED, Status.ENTERED_IN_ERROR},
        Status.CANCELLED: {Status.ENTERED_IN_ERROR},
        Status.ENTERED_IN_ERROR: set(),
    }

    # No index of their own: the (session, status) and (patient, starts_at) indexes lead with
    # them, and every booking writes each of its indexes.
    session = models.ForeignKey(
        OutreachSession, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    lane = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Room or chair; empty for a walk-in still in the queue."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.BOOKED)
    arrived_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancellation_reason = models.TextField(blank=True)
    # The patient said they are coming (replied C or YES); not a status, because a confirmed
    # booking is still just booked: it can be cancelled, checked in or missed like any other.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(max_length=20, choices=ConfirmedVia.choices, blank=True)
    notes = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    rescheduled_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="rescheduled_to"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The history is read by booking (its id) and by patient (a subject access request); its
    # other keys are not looked up, so they are not indexed (each index costs every booking).
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        no_db_index=["session", "service_type", "booked_by", "rescheduled_from"],
    )
    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "lane", "id"]
        constraints = [
            choices_check("status", BookingStatus, "booking_status_valid"),
            choices_check("source", BookingSource, "booking_source_valid"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(lane__isnull=True) | Q(lane__gte=1), name="booking_lane_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_by=""),
                name="booking_cancel_says_by_whom",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["arrived", "fulfilled"]) | Q(arrived_at__isnull=False),
                name="booking_arrival_has_time",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True, confirmed_via="")
                | Q(confirmed_at__isnull=False, confirmed_via__in=BookingConfirmedVia.values),
                name="booking_confirmation_says_how",
            ),
            models.UniqueConstraint(
                fields=["session", "patient"],
                condition=Q(status__in=["booked", "arrived", "fulfilled"]),
                name="booking_one_active_per_patient_per_session",
            ),
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="booking_idempotency_key_unique",
            ),
            # Two bookings can never hold the same lane at overlapping times.
            PostgresExclusionConstraint(
                name="booking_lane_no_overlap",
                expressions=[
                    ("session", RangeOperators.EQUAL),
                    ("lane", RangeOperators.EQUAL),
                    (TstzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(lane__isnull=False, status__in=["booked", "arrived", "fulfilled"]),
                violation_error_code="lane_taken",
                violation_error_message="That slot has just been taken.",
            ),
            # A person cannot be in two appointments at once.
            PostgresExclusionConstraint(
                name="booking_patient_no_overlap",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TstzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["booked", "arrived"]),
                violation_error_code="patient_double_booked",
                violation_error_message="This person already has a booking at that time.",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"]),
            models.Index(fields=["patient", "starts_at"]),
        ]

    def __str__(self) -> str:
        local = self.starts_at.astimezone(_london())
        return f"{self.patient.preferred_name}: {self.service_type} at {local:%d %b %Y %H:%M}"


class VisitOutcomeOutcome(models.TextChoices):
    COMPLETED = "completed", "Completed"
    PARTIAL = "partial", "Partly completed"
    DECLINED = "declined", "Declined on the day"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"
    UNABLE = "unable", "Unable to complete"


class VisitOutcomeResult(models.TextChoices):
    NOT_APPLICABLE = "n/a", "No result"
    NORMAL = "normal", "Normal"
    ABNORMAL = "abnormal", "Abnormal"
    REACTIVE = "reactive", "Reactive"
    NON_REACTIVE = "non_reactive", "Non-reactive"
    INADEQUATE = "inadequate", "Inadequate sample"
    AWAITED = "awaited", "Result awaited"


class VisitOutcome(models.Model):
    """What was done at a visit: only what scheduling, referral and reporting need."""

    Outcome = VisitOutcomeOutcome
    Result = VisitOutcomeResult

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="outcome")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    result = models.CharField(max_length=20, choices=Result.choices, default=Result.NOT_APPLICABLE)
    follow_up_date = models.DateField(null=True, blank=True, help_text="Recall or follow-up date.")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            choices_check("outcome", VisitOutcomeOutcome, "visitoutcome_outcome_valid"),
            choices_check("result", VisitOutcomeResult, "visitoutcome_result_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()}: {self.booking}"


class WaitlistEntryStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class WaitlistEntry(models.Model):
    """Someone who wants a service at a venue and will take a slot a cancellation frees."""

    Status = WaitlistEntryStatus

    NEXT_STATUSES = {
        Status.WAITING: {Status.OFFERED, Status.BOOKED, Status.WITHDRAWN, Status.EXPIRED},
        Status.OFFERED: {Status.BOOKED, Status.WAITING, Status.WITHDRAWN, Status.EXPIRED},
        Status.BOOKED: set(),
        Status.WITHDRAWN: set(),
        Status.EXPIRED: set(),
    }

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    venue = models.ForeignKey(
        Venue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty means any venue.",
    )
    not_before = models.DateField(null=True, blank=True)
    not_after = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    offered_booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waiting list entries"
        constraints = [
            choices_check("status", WaitlistEntryStatus, "waitlistentry_status_valid"),
            models.CheckConstraint(
                condition=Q(not_before__isnull=True)
                | Q(not_after__isnull=True)
                | Q(not_after__gte=models.F("not_before")),
                name="waitlistentry_window_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offered_at__isnull=False),
                name="waitlistentry_offer_has_time",
            ),
            models.UniqueConstraint(
                fields=["patient", "service_type", "venue"],
                condition=Q(status__in=["waiting", "offered"], venue__isnull=False),
                name="waitlistentry_one_open_per_patient_service_venue",
            ),
            # NULLs are distinct in a unique index, so "any venue" needs a constraint of its own.
            models.UniqueConstraint(
                fields=["patient", "service_type"],
                condition=Q(status__in=["waiting", "offered"], venue__isnull=True),
                name="waitlistentry_one_open_per_patient_service_any_venue",
            ),
        ]

    def __str__(self) -> str:
        where = self.venue or "any venue"
        return f"{self.patient.preferred_name} waiting for {self.service_type} at {where}"


class MessageTemplatePurpose(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", "Booking confirmation"
    REMINDER = "reminder", "Reminder"
    CANCELLATION = "cancellation", "Booking cancelled"
    SESSION_CANCELLED = "session_cancelled", "Session cancelled"
    WAITLIST_OFFER = "waitlist_offer", "Waiting list offer"
    REFERRAL_UPDATE = "referral_update", "Referral update"
    REFERRAL_DIGEST = "referral_digest", "Overdue referrals digest"


class MessageTemplate(models.Model):
    """The wording of a message; a discreet variant names no service, clinic or venue."""

    Purpose = MessageTemplatePurpose

    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=ContactPoint.Channel.choices)
    discreet = models.BooleanField(
        default=False, help_text="Used for sensitive services: no service, clinic or venue name."
    )
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(
        help_text="Placeholders in double braces, for example {{ first_name }} and {{ time }}."
    )
    notify_template_id = models.CharField("GOV.UK Notify template id", max_length=36, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["purpose", "channel", "discreet"]
        constraints = [
            choices_check("purpose", MessageTemplatePurpose, "messagetemplate_purpose_valid"),
            choices_check("channel", ContactPoint.Channel, "messagetemplate_channel_valid"),
            models.UniqueConstraint(
                fields=["purpose", "channel", "discreet"],
                condition=Q(is_active=True),
                name="messagetemplate_one_active_per_purpose",
            ),
        ]

    def __str__(self) -> str:
        variant = " (discreet)" if self.discreet else ""
        return f"{self.get_purpose_display()} by {self.get_channel_display().lower()}{variant}"

    def clean(self) -> None:
        from outreach.messaging.rendering import validate_template

        validate_template(self.body, channel=self.channel, discreet=self.discreet)


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: datetime) -> "MessageQuerySet":
        return self.filter(status=Message.Status.SCHEDULED, send_after__lte=now)


class MessageStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SUPPRESSED = "suppressed", "Suppressed"
    EXPIRED = "expired", "Expired"


class MessageSuppressedReason(models.TextChoices):
    NO_CONSENT = "no_consent", "No consent for this channel"
    OPTED_OUT = "opted_out", "Opted out"
    NO_CONTACT = "no_contact", "No contact details"
    DAILY_CAP = "daily_cap", "Daily message limit reached"


class Message(models.Model):
    """One SMS or email: written in the transaction that caused it, sent later by Celery."""

    Status = MessageStatus
    SuppressedReason = MessageSuppressedReason

    NEXT_STATUSES = {
        Status.SCHEDULED: {
            Status.SENDING,
            Status.CANCELLED,
            Status.SUPPRESSED,
            Status.EXPIRED,
            Status.SCHEDULED,
        },
        # From sending: the send-time checks (opt-out, expiry, cap, a cancelled booking) can
        # still stop a claimed row; a temporary failure goes back to scheduled with a backoff.
        Status.SENDING: {
            Status.SENT,
            Status.FAILED,
            Status.SCHEDULED,
            Status.SUPPRESSED,
            Status.EXPIRED,
            Status.CANCELLED,
        },
        Status.SENT: {Status.DELIVERED, Status.FAILED},
        Status.DELIVERED: set(),
        Status.FAILED: {Status.SCHEDULED},
        Status.CANCELLED: set(),
        Status.SUPPRESSED: set(),
        Status.EXPIRED: set(),
    }

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="messages"
    )
    # Indexed by (patient, -send_after), which leads with it.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
    )
    # Indexed only where set (message_staff_recipient_idx): most messages go to patients.
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For messages to staff, such as the overdue referrals digest.",
        db_index=False,
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    channel = models.CharField(max_length=10, choices=ContactPoint.Channel.choices)
    purpose = models.CharField(max_length=30, choices=MessageTemplatePurpose.choices, blank=True)
    discreet = models.BooleanField(
        default=False, help_text="For a sensitive service: discreet wording and a neutral sender."
    )
    to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    send_after = models.DateTimeField(help_text="Not sent before this time.")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent after this time (a reminder: the appointment)."
    )
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a sweep or a worker last claimed the row; a lease, not a lock.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    suppressed_reason = models.CharField(
        max_length=20, choices=SuppressedReason.choices, blank=True
    )
    failure_permanent = models.BooleanField(default=False)
    failure_detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Unique by message_idempotency_key_unique: a constraint rather than `unique=True`, which on
    # PostgreSQL adds a second, pattern-matching index that nothing searches.
    idempotency_key = models.CharField(max_length=150)
    provider_reference = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-send_after", "-id"]
        constraints = [
            choices_check("status", MessageStatus, "message_status_valid"),
            choices_check("channel", ContactPoint.Channel, "message_channel_valid"),
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | Q(recipient_user__isnull=False),
                name="message_has_recipient",
            ),
            models.CheckConstraint(
                condition=~Q(status="suppressed") | ~Q(suppressed_reason=""),
                name="message_suppressed_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "delivered"]) | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="message_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(idempotency_key=""), name="message_idempotency_key_required"
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"], name="message_idempotency_key_unique"
            ),
        ]
        indexes = [
            # The every-minute sweep reads only scheduled rows by send time.
            models.Index(
                fields=["send_after"],
                condition=Q(status="scheduled"),
                name="message_due_idx",
            ),
            models.Index(fields=["patient", "-send_after"]),
            # Staff messages are few; deleting a user finds theirs through it.
            models.Index(
                fields=["recipient_user"],
                condition=Q(recipient_user__isnull=False),
                name="message_staff_recipient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} ({self.get_status_display()})"


class InboundMessageAction(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed the appointment"
    CANCELLED = "cancelled", "Cancelled the appointment"
    OPTED_OUT = "opted_out", "Opted out"
    UNKNOWN = "unknown", "Needs a coordinator"


class InboundMessage(models.Model):
    """A text a patient sent back: C, X and STOP act on their own; anything else needs a person."""

    Action = InboundMessageAction

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider_id = models.CharField(
        max_length=100, unique=True, help_text="The gateway's id: a repeated callback is ignored."
    )
    from_number = models.CharField(max_length=32)
    body = models.TextField()
    received_at = models.DateTimeField()
    patient = models.ForeignKey(
        Patient, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    note = models.CharField(
        max_length=300, blank=True, help_text="Why the reply was not acted on, for a coordinator."
    )
    handled = models.BooleanField(default=False, help_text="A coordinator has dealt with it.")
    # Who dealt with it and when; empty on replies acted on automatically (C, X, STOP).
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [choices_check("action", InboundMessageAction, "inboundmessage_action_valid")]

    def __str__(self) -> str:
        return f"Reply #{self.pk} ({self.get_action_display()})"
