"""Writes to clinics records, and the named user that background jobs act as."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

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
