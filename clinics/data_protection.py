"""Subject access, anonymisation and retention of patient records (UK GDPR).

A patient's data spans every app, and clinics may not import the apps above it, so each app
registers a `PatientDataProvider` (outreach and referrals do in their AppConfig.ready): what
it holds about a patient (export), what stops anonymisation (open work), how to remove the
identifying parts (anonymise, history rows included) and when it last saw the patient.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from clinics.access_log import entries_about
from clinics.domain import Conflict
from clinics.models import Patient

ANONYMISED_NAME = "Anonymised"
REMOVED = "(removed when the record was anonymised)"
# Cleared on the record and on every history row of it; coded fields (sex, ethnicity,
# housing, GP registration, year-of-birth band) stay for reporting.
_IDENTIFYING_BLANKS = {
    "legal_name": "",
    "nhs_number": "",
    "gender_identity": "",
    "postcode": "",
    "gp_practice_name": "",
    "safe_contact_notes": "",
    "interpreter_language": "",
    "access_needs": "",
    "date_of_birth": None,
}
YEAR_OF_BIRTH_BAND = 5


@dataclass(frozen=True)
class PatientDataProvider:
    name: str
    export: Callable[[Patient], dict[str, list[dict[str, Any]]]]
    open_work: Callable[[Patient, datetime], list[str]]
    anonymise: Callable[[Patient, Any], None]
    # A subquery of the latest contact, correlated on OuterRef("pk") of the patient.
    last_contact: Callable[[], models.Expression]


_PROVIDERS: dict[str, PatientDataProvider] = {}


def register_provider(provider: PatientDataProvider) -> None:
    _PROVIDERS[provider.name] = provider


class PatientHasOpenCare(Conflict):
    code = "patient_has_open_care"


def rows(queryset: models.QuerySet) -> list[dict[str, Any]]:
    """Every stored field of each row, foreign keys as ids: the export's plain form."""
    fields = list(queryset.model._meta.concrete_fields)
    return [{field.attname: field.value_from_object(obj) for field in fields} for obj in queryset]


def history_rows(queryset: models.QuerySet) -> list[dict[str, Any]]:
    return rows(queryset.order_by("history_date", "history_id"))


def subject_access_export(patient: Patient) -> dict[str, Any]:
    """Everything held about `patient`, every app's part, as JSON-ready data."""
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "patient": rows(Patient.objects.filter(pk=patient.pk))[0],
        "contact_points": rows(patient.contact_points.order_by("id")),
        "patient_history": history_rows(patient.history.all()),
    }
    for provider in _PROVIDERS.values():
        data.update(provider.export(patient))
    data["access_log"] = rows(entries_about(patient.pk).order_by("id"))
    return data


def open_care(patient: Patient, now: datetime) -> list[str]:
    return [reason for p in _PROVIDERS.values() for reason in p.open_work(patient, now)]


def _year_band(year: int | None) -> int | None:
    return None if year is None else year - year % YEAR_OF_BIRTH_BAND


def _outward_code(postcode: str) -> str:
    return postcode.split(" ")[0] if " " in postcode else ""


def anonymise_patient(patient: Patient, *, by: Any, reason: str = "Anonymised") -> Patient:
    """Remove what identifies a person for good, keeping what reporting counts.

    Refused (409) while they have care in progress: an open referral or a future booking.
    Doing it again changes nothing.
    """
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        if patient.anonymised_at is not None:
            return patient
        blockers = open_care(patient, timezone.now())
        if blockers:
            raise PatientHasOpenCare(
                "This person cannot be anonymised while care is in progress: "
                + "; ".join(blockers)
                + ".",
                blockers=blockers,
            )
        district = patient.postcode_district or _outward_code(patient.postcode)
        band = _year_band(patient.year_of_birth)
        for field, value in _IDENTIFYING_BLANKS.items():
            setattr(patient, field, value)
        patient.preferred_name = ANONYMISED_NAME
        patient.year_of_birth = band
        patient.postcode_district = district
        patient.anonymised_at = timezone.now()
        patient.contact_points.all().delete()
        for provider in _PROVIDERS.values():
            provider.anonymise(patient, by)
        save_scrubbed(patient, by=by, reason=reason)
        scrub_history(
            Patient,
            {"id": patient.pk},
            preferred_name=ANONYMISED_NAME,
            year_of_birth=band,
            postcode_district=district,
            **_IDENTIFYING_BLANKS,
        )
    return patient


def save_scrubbed(obj: models.Model, *, by: Any, reason: str = "Anonymised") -> None:
    """Save a row whose identifying text was just removed, recording who and why."""
    obj._history_user = by
    obj._change_reason = reason
    obj.save()


def scrub_history(model: type[models.Model], filters: dict[str, Any], **values: Any) -> None:
    """Overwrite identifying fields on the history rows of `model` matching `filters`.

    The one place history rows are rewritten: the history keeps who changed what and when,
    but after anonymisation no longer who the person was. It is an update of the history
    table itself, so there is no history of it to keep.
    """
    history_model = model.history.model  # type: ignore[attr-defined]
    history_model._default_manager.filter(**filters).update(**values)


def retention_cutoff(now: datetime) -> datetime:
    """The moment OUTREACH_RETENTION_YEARS before `now` (29 February falls back a day)."""
    years = settings.OUTREACH_RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def past_retention(now: datetime) -> models.QuerySet[Patient]:
    """Patients not yet anonymised whose last contact is older than the retention period."""
    latest = [Coalesce(p.last_contact(), F("created_at")) for p in _PROVIDERS.values()]
    return (
        Patient.objects.filter(anonymised_at__isnull=True)
        .annotate(last_contact=Greatest(F("created_at"), F("updated_at"), *latest))
        .filter(last_contact__lt=retention_cutoff(now))
    )


@dataclass(frozen=True)
class RetentionResult:
    anonymised: int
    kept_for_open_care: int


def anonymise_past_retention(
    *, by: Any, now: datetime | None = None, batch_size: int | None = None
) -> RetentionResult:
    """Anonymise every patient past retention, a batch per transaction; safe to run again.

    A patient with care still open is left (and counted): the next run looks again.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.OUTREACH_RETENTION_BATCH_SIZE
    anonymised = kept = 0
    after = 0
    while True:
        # Walk by id so a kept patient is not picked up again in this run.
        batch = list(
            past_retention(now)
            .filter(pk__gt=after)
            .order_by("pk")[:batch_size]
            .values_list("pk", flat=True)
        )
        if not batch:
            break
        with transaction.atomic():
            for patient in Patient.objects.filter(pk__in=batch).order_by("pk"):
                try:
                    anonymise_patient(patient, by=by, reason="Past the retention period")
                except PatientHasOpenCare:
                    kept += 1
                else:
                    anonymised += 1
        after = batch[-1]
    return RetentionResult(anonymised, kept)


def latest_of(queryset: models.QuerySet, field: str, patient_field: str = "patient") -> Subquery:
    """A subquery: the latest `field` of the rows of `queryset` for the outer patient."""
    return Subquery(
        queryset.filter(**{patient_field: OuterRef("pk")})
        .order_by()
        .values(patient_field)
        .annotate(latest=models.Max(field))
        .values("latest")[:1]
    )
