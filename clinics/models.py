"""Who provides care, where, and to whom."""

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from clinics.validators import (
    normalise_mobile,
    normalise_nhs_number,
    normalise_postcode,
    validate_mobile,
    validate_nhs_number,
    validate_ods_code,
    validate_postcode,
)


def choices_check(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    """A check constraint keeping `field` inside its TextChoices, so raw SQL cannot drift."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class OrganisationKind(models.TextChoices):
    NHS_TRUST = "nhs_trust", "NHS trust"
    ICB = "icb", "Integrated care board"
    GP_PRACTICE = "gp_practice", "GP practice"
    PCN = "pcn", "Primary care network"
    COUNCIL = "council", "Council"
    VOLUNTARY = "voluntary", "Voluntary sector"


class Organisation(models.Model):
    Kind = OrganisationKind

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ods_code = models.CharField(
        "ODS code",
        max_length=6,
        blank=True,
        validators=[validate_ods_code],
        help_text="Organisation Data Service code, if it has one.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_check("kind", OrganisationKind, "organisation_kind_valid"),
            models.UniqueConstraint(
                fields=["ods_code"], condition=~Q(ods_code=""), name="organisation_ods_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceType(models.Model):
    """One thing a clinic offers: a health check, a dry blood spot test, cervical screening."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    default_duration_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    requires_competency = models.BooleanField(
        default=False,
        help_text="Only staff who hold this service as a competency may deliver it.",
    )
    min_age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    requires_cervix = models.BooleanField(
        default=False, help_text="Eligible only for people with a cervix (cervical screening)."
    )
    eligibility_notes = models.TextField(blank=True)
    sensitive = models.BooleanField(
        default=False,
        help_text=(
            "Reminders use discreet wording (no service, clinic or venue name), and its "
            "bookings, outcomes, referrals and messages are seen only by staff allowed to see "
            "sensitive services."
        ),
    )
    reminder_offsets_hours = models.JSONField(
        default=list,
        blank=True,
        help_text="Hours before an appointment that reminders go, e.g. [48, 2]; empty: default.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "view_sensitive_services",
                "Can see bookings, outcomes, referrals and messages of sensitive services",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gte=5, default_duration_minutes__lte=240),
                name="servicetype_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(min_age_years__isnull=True)
                | Q(max_age_years__isnull=True)
                | Q(max_age_years__gte=models.F("min_age_years")),
                name="servicetype_age_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def eligibility_problem(self, patient: "Patient", on: date) -> str | None:
        """Say why `patient` is not eligible on `on`, or None if they are (or we cannot tell)."""
        if self.requires_cervix:
            has_cervix = patient.has_cervix
            if has_cervix is None:
                has_cervix = patient.sex == Patient.Sex.FEMALE if patient.sex else None
            if has_cervix is False:
                return f"{self.name} is for people with a cervix."
        age = patient.age_on(on)
        if age is not None:
            if self.min_age_years is not None and age < self.min_age_years:
                return f"{self.name} is for people aged {self.min_age_years} and over."
            if self.max_age_years is not None and age > self.max_age_years:
                return f"{self.name} is for people aged {self.max_age_years} and under."
        return None


class StaffMemberRole(models.TextChoices):
    NURSE = "nurse", "Nurse"
    HCA = "hca", "Healthcare assistant"
    OUTREACH_WORKER = "outreach_worker", "Outreach worker"
    COORDINATOR = "coordinator", "Coordinator"
    ADMIN = "admin", "Administrator"
    ANALYST = "analyst", "Analyst"
    AUDITOR = "auditor", "Auditor"


class StaffMember(models.Model):
    Role = StaffMemberRole

    # The auth group each role belongs to; permissions are granted to the groups.
    ROLE_GROUPS = {
        Role.NURSE: "nurse",
        Role.HCA: "nurse",
        Role.OUTREACH_WORKER: "nurse",
        Role.COORDINATOR: "coordinator",
        Role.ADMIN: "admin",
        Role.ANALYST: "analyst",
        Role.AUDITOR: "auditor",
    }
    CLINICAL_ROLES = {Role.NURSE, Role.HCA, Role.OUTREACH_WORKER}

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    competencies = models.ManyToManyField(
        ServiceType,
        blank=True,
        related_name="competent_staff",
        help_text="The services this person is trained and allowed to deliver.",
    )
    phone = models.CharField(max_length=30, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name"]
        verbose_name = "staff member"
        constraints = [choices_check("role", StaffMemberRole, "staffmember_role_valid")]

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} ({self.get_role_display()}, {self.organisation})"

    @property
    def group_name(self) -> str:
        return self.ROLE_GROUPS[self.Role(self.role)]

    def can_deliver(self, service: ServiceType) -> bool:
        if not service.requires_competency:
            return True
        return self.competencies.filter(pk=service.pk).exists()


class MobileUnit(models.Model):
    """A health bus or van: it can only be in one place at a time."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="mobile_units"
    )
    name = models.CharField(max_length=100)
    registration = models.CharField(max_length=10, unique=True)
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="How many people can be seen at once (rooms or chairs).",
    )
    supported_services = models.ManyToManyField(
        ServiceType,
        blank=True,
        related_name="mobile_units",
        help_text="The services its equipment supports.",
    )
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=20), name="mobileunit_capacity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.registration})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.registration = self.registration.replace(" ", "").upper()
        super().save(*args, **kwargs)


class VenueKind(models.TextChoices):
    FOOD_BANK = "food_bank", "Food bank"
    WORKPLACE = "workplace", "Workplace"
    HOSTEL = "hostel", "Hostel"
    DAY_CENTRE = "day_centre", "Day centre"
    STREET_SITE = "street_site", "Street site"
    COMMUNITY_CENTRE = "community_centre", "Community centre"
    HOSPITAL_HUB = "hospital_hub", "Hospital hub"
    GP_PRACTICE = "gp_practice", "GP practice"
    OTHER = "other", "Other"


class Venue(models.Model):
    Kind = VenueKind

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="venues",
        help_text="The organisation that added and looks after this venue's details.",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    address = models.TextField(blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True, validators=[validate_postcode])
    latitude = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    access_notes = models.TextField(
        blank=True, help_text="Parking for the bus, step-free access, where to find the door."
    )
    host_contact_name = models.CharField(max_length=120, blank=True)
    host_contact_phone = models.CharField(max_length=30, blank=True)
    imd_decile = models.PositiveSmallIntegerField(
        "IMD decile",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Index of Multiple Deprivation decile of the area: 1 is the most deprived 10%.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_check("kind", VenueKind, "venue_kind_valid"),
            models.CheckConstraint(
                condition=Q(imd_decile__isnull=True) | Q(imd_decile__gte=1, imd_decile__lte=10),
                name="venue_imd_decile_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="venue_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="venue_longitude_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="venue_coordinates_paired",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.town}" if self.town else self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.postcode = normalise_postcode(self.postcode)
        super().save(*args, **kwargs)


class PatientQuerySet(models.QuerySet["Patient"]):
    def current(self) -> "PatientQuerySet":
        """Patients not merged into another record."""
        return self.filter(merged_into__isnull=True)


class PatientSex(models.TextChoices):
    # FHIR AdministrativeGender
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class PatientEthnicity(models.TextChoices):
    # NHS Data Dictionary: ETHNIC CATEGORY
    WHITE_BRITISH = "A", "White: British"
    WHITE_IRISH = "B", "White: Irish"
    WHITE_OTHER = "C", "White: any other White background"
    MIXED_WHITE_BLACK_CARIBBEAN = "D", "Mixed: White and Black Caribbean"
    MIXED_WHITE_BLACK_AFRICAN = "E", "Mixed: White and Black African"
    MIXED_WHITE_ASIAN = "F", "Mixed: White and Asian"
    MIXED_OTHER = "G", "Mixed: any other mixed background"
    ASIAN_INDIAN = "H", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "J", "Asian or Asian British: Pakistani"
    ASIAN_BANGLADESHI = "K", "Asian or Asian British: Bangladeshi"
    ASIAN_OTHER = "L", "Asian or Asian British: any other Asian background"
    BLACK_CARIBBEAN = "M", "Black or Black British: Caribbean"
    BLACK_AFRICAN = "N", "Black or Black British: African"
    BLACK_OTHER = "P", "Black or Black British: any other Black background"
    CHINESE = "R", "Other ethnic groups: Chinese"
    OTHER = "S", "Other ethnic groups: any other ethnic group"
    NOT_STATED = "Z", "Not stated"
    NOT_KNOWN = "99", "Not known"


class PatientHousing(models.TextChoices):
    ROUGH_SLEEPING = "rough_sleeping", "Rough sleeping"
    HOSTEL = "hostel", "Hostel"
    SOFA_SURFING = "sofa_surfing", "Sofa surfing"
    TEMPORARY = "temporary", "Temporary accommodation"
    SUPPORTED = "supported", "Supported housing"
    SETTLED = "settled", "Settled"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class PatientGPRegistration(models.TextChoices):
    YES = "yes", "Registered with a GP"
    NO = "no", "Not registered"
    UNKNOWN = "unknown", "Not known"


class Patient(models.Model):
    """A person seen by outreach. Only a preferred name is required: many give no more."""

    Sex = PatientSex
    Ethnicity = PatientEthnicity
    Housing = PatientHousing
    GPRegistration = PatientGPRegistration

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The organisation that registered this person and controls the record.",
    )
    preferred_name = models.CharField(max_length=100)
    legal_name = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    year_of_birth = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="When only the year is known; filled from a full date."
    )
    nhs_number = models.CharField(
        "NHS number", max_length=10, blank=True, validators=[validate_nhs_number]
    )
    sex = models.CharField(max_length=10, choices=Sex.choices, blank=True)
    gender_identity = models.CharField(
        max_length=100, blank=True, help_text="In the person's own words, if they wish."
    )
    has_cervix = models.BooleanField(
        null=True, blank=True, help_text="Asked only where it decides screening eligibility."
    )
    ethnicity = models.CharField(max_length=2, choices=Ethnicity.choices, blank=True)
    housing_status = models.CharField(
        max_length=20, choices=Housing.choices, default=Housing.UNKNOWN
    )
    postcode = models.CharField(max_length=8, blank=True, validators=[validate_postcode])
    no_fixed_abode = models.BooleanField(default=False)
    gp_registration = models.CharField(
        "GP registration",
        max_length=10,
        choices=GPRegistration.choices,
        default=GPRegistration.UNKNOWN,
    )
    gp_practice_name = models.CharField("GP practice", max_length=200, blank=True)
    safe_contact_notes = models.TextField(
        blank=True,
        help_text="How to contact this person safely: times, what never to say, who may see it.",
    )
    interpreter_language = models.CharField(max_length=60, blank=True)
    access_needs = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        help_text="Set when this record was a duplicate and was merged into another.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    postcode_district = models.CharField(
        max_length=4,
        blank=True,
        help_text="The outward part of the postcode, kept for area reporting once anonymised.",
    )
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the identifying details were removed for good."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["preferred_name", "id"]
        permissions = [
            ("export_patient", "Can export everything held about a patient (subject access)"),
            ("anonymise_patient", "Can anonymise a patient"),
        ]
        constraints = [
            choices_check("housing_status", PatientHousing, "patient_housing_status_valid"),
            choices_check(
                "gp_registration", PatientGPRegistration, "patient_gp_registration_valid"
            ),
            models.CheckConstraint(
                condition=Q(sex="") | Q(sex__in=PatientSex.values), name="patient_sex_valid"
            ),
            models.CheckConstraint(
                condition=Q(ethnicity="") | Q(ethnicity__in=PatientEthnicity.values),
                name="patient_ethnicity_valid",
            ),
            models.CheckConstraint(
                condition=~Q(preferred_name=""), name="patient_preferred_name_required"
            ),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="patient_nhs_number_ten_digits",
            ),
            models.CheckConstraint(
                condition=~Q(no_fixed_abode=True, postcode__gt=""),
                name="patient_no_fixed_abode_has_no_postcode",
            ),
            models.CheckConstraint(
                condition=Q(year_of_birth__isnull=True)
                | Q(year_of_birth__gte=1900, year_of_birth__lte=2100),
                name="patient_year_of_birth_range",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="patient_not_merged_into_itself"
            ),
            # One live record per NHS number; a merged-away duplicate keeps its number for audit.
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=~Q(nhs_number="") & Q(merged_into__isnull=True),
                name="patient_nhs_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "preferred_name"])]

    def __str__(self) -> str:
        year = self.date_of_birth.year if self.date_of_birth else self.year_of_birth
        return f"{self.preferred_name} (born {year})" if year else self.preferred_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.nhs_number = normalise_nhs_number(self.nhs_number)
        self.postcode = normalise_postcode(self.postcode)
        if self.date_of_birth:
            self.year_of_birth = self.date_of_birth.year
        super().save(*args, **kwargs)

    def clean_fields(self, exclude: object = None) -> None:
        # People type NHS numbers and postcodes with spaces; validate what will be stored.
        self.nhs_number = normalise_nhs_number(self.nhs_number)
        self.postcode = normalise_postcode(self.postcode)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if self.no_fixed_abode and self.postcode:
            raise ValidationError(
                {"postcode": "Leave the postcode empty for someone with no fixed abode."}
            )
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})
        # The year of birth is taken from the date when saved, and the database holds it to
        # 1900 onwards (patient_year_of_birth_range): say so here rather than fail on insert.
        if self.date_of_birth and self.date_of_birth.year < 1900:
            raise ValidationError({"date_of_birth": "Date of birth must be in 1900 or later."})

    def age_on(self, on: date) -> int | None:
        """Age in whole years on `on`; from the year alone when that is all we have."""
        if self.date_of_birth:
            dob = self.date_of_birth
            return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
        if self.year_of_birth:
            return on.year - self.year_of_birth
        return None


class ContactPointChannel(models.TextChoices):
    SMS = "sms", "Mobile (text messages)"
    EMAIL = "email", "Email"


class ContactPoint(models.Model):
    """A way to reach a patient, with the consent that allows it."""

    Channel = ContactPointChannel

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contact_points")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    value = models.CharField(max_length=254)
    is_preferred = models.BooleanField(default=False)
    consent_given = models.BooleanField(
        default=False, help_text="The person agreed to be contacted this way."
    )
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opted_out_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the person replied STOP or asked us to stop."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_preferred", "channel", "id"]
        constraints = [
            choices_check("channel", ContactPointChannel, "contactpoint_channel_valid"),
            models.UniqueConstraint(
                fields=["patient", "channel", "value"], name="contactpoint_unique_per_patient"
            ),
            models.CheckConstraint(
                condition=Q(consent_given=False) | Q(consent_recorded_at__isnull=False),
                name="contactpoint_consent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} for {self.patient.preferred_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.channel == self.Channel.SMS:
            self.value = normalise_mobile(self.value)
        elif self.channel == self.Channel.EMAIL:
            self.value = self.value.strip().lower()
        super().save(*args, **kwargs)

    @property
    def may_contact(self) -> bool:
        return self.consent_given and self.opted_out_at is None

    def clean(self) -> None:
        if self.channel == self.Channel.SMS:
            try:
                validate_mobile(self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from None
        elif self.channel == self.Channel.EMAIL:
            try:
                validate_email(self.value)
            except ValidationError:
                raise ValidationError({"value": "Enter an email address."}) from None


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now: datetime) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """A bearer token for the API: only its id and a SHA-256 of its secret are kept.

    The full token (`otk_<key_id>_<secret>`) is shown once, when it is made; a stolen copy of
    the database cannot be turned back into a working token. It stops working when it
    expires, when it is revoked, or when its user is deactivated.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'Rota sync'.")
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Written at most once a minute (clinics.tokens.LAST_USED_PRECISION), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="apitoken_revoker_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (otk_{self.key_id}…)"

    @property
    def prefix(self) -> str:
        """The part of the token that is safe to show again: enough to recognise it."""
        return f"otk_{self.key_id}"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


# Registered in this app; defined apart to keep this module to the care records themselves.
from clinics.governance import AccessLogEntry, DataSharingAgreement  # noqa: E402, F401
