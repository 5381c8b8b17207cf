"""Writes to clinics records, and the named user that background jobs act as."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from clinics.domain import DomainError
from clinics.governance import DataSharingAgreement
from clinics.models import Organisation, Patient

SYSTEM_USERNAME = "outreach-system"


def system_user() -> AbstractBaseUser:
    """Return the user that Celery jobs record in history: it cannot sign in."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Outreach", "last_name": "(automatic)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def register_patient(*, organisation: Organisation, by: Any, **fields: Any) -> Patient:
    """Register a person; a preferred name is all that is needed."""
    patient = Patient(organisation=organisation, created_by=by, **fields)
    patient._history_user = by
    patient._change_reason = "Registered"
    patient.save()
    return patient


def update_patient(
    patient: Patient, *, by: Any, reason: str = "Details updated", **fields: Any
) -> Patient:
    """Change a person's details, keeping who and why in the history."""
    for field, value in fields.items():
        setattr(patient, field, value)
    patient._history_user = by
    patient._change_reason = reason
    patient.save()
    return patient


def check_agreement_authority(agreement: DataSharingAgreement, by: Any) -> None:
    """Refuse an agreement `by` may not make: only the data controller shares.

    A non-superuser may record agreements in which their own organisation is the sharing
    party, and never a reciprocal one (that shares the other party's records too, so a
    superuser records it once both have signed).
    """
    if by.is_superuser and by.is_active:
        return
    staff = getattr(by, "staff", None)
    own = staff.organisation_id if staff is not None and staff.is_active else None
    if agreement.sharing_organisation_id != own:
        raise DomainError(
            "You can only share your own organisation's records.",
            code="not_your_records",
            fields={"sharing_organisation": "Choose your own organisation."},
        )
    if agreement.reciprocal:
        raise DomainError(
            "A two-way agreement shares the other organisation's records too: ask a system "
            "administrator to record it.",
            code="reciprocal_needs_superuser",
            fields={"reciprocal": "Only a system administrator records two-way agreements."},
        )


def record_sharing_agreement(
    agreement: DataSharingAgreement, *, by: Any, reason: str = "Agreement recorded"
) -> DataSharingAgreement:
    """Record or change a data-sharing agreement, if `by` may make it."""
    check_agreement_authority(agreement, by)
    if agreement.pk is None:
        agreement.recorded_by = by
    agreement.full_clean()
    agreement._history_user = by
    agreement._change_reason = reason
    agreement.save()
    return agreement
