"""Writes to clinics records, and the named user that background jobs act as."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import models, transaction
from django.utils import timezone

from clinics.domain import DomainError
from clinics.governance import DataSharingAgreement
from clinics.models import (
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    StaffMember,
    Venue,
)
from clinics.validators import normalise_mobile

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


def _save_checked(record: models.Model, fields: dict[str, Any]) -> None:
    """Set `fields`, run the model's own checks (validators, constraints), then save.

    The API's serializers check each field; the model checks the combinations (coordinates
    given in pairs, one preferred contact per channel) before the database would refuse them.
    """
    many = {name: fields.pop(name) for name in list(fields) if _is_many(record, name)}
    for name, value in fields.items():
        setattr(record, name, value)
    record.full_clean()
    record.save()
    for name, value in many.items():
        getattr(record, name).set(value)


def _is_many(record: models.Model, name: str) -> bool:
    field = record._meta.get_field(name)
    return bool(field.many_to_many)


@transaction.atomic
def add_venue(*, organisation: Organisation, by: Any, **fields: Any) -> Venue:
    """Add a venue the organisation looks after."""
    venue = Venue(organisation=organisation)
    _save_checked(venue, fields)
    return venue


@transaction.atomic
def update_venue(venue: Venue, *, by: Any, **fields: Any) -> Venue:
    """Change a venue's details."""
    _save_checked(venue, fields)
    return venue


@transaction.atomic
def add_mobile_unit(*, organisation: Organisation, by: Any, **fields: Any) -> MobileUnit:
    """Add a mobile unit (a bus) to the organisation's fleet."""
    unit = MobileUnit(organisation=organisation)
    _save_checked(unit, fields)
    return unit


@transaction.atomic
def update_mobile_unit(unit: MobileUnit, *, by: Any, **fields: Any) -> MobileUnit:
    """Change a mobile unit: its capacity, the services its equipment supports, retire it."""
    _save_checked(unit, fields)
    return unit


@transaction.atomic
def update_staff_member(staff: StaffMember, *, by: Any, **fields: Any) -> StaffMember:
    """Change a member of staff's role, competencies, phone or whether they are active.

    The role is a Django group (clinics/roles.py): moving role moves the user between groups in
    the same transaction, so permissions never lag behind the role shown.
    """
    _save_checked(staff, fields)
    if "role" in fields:
        role_groups = Group.objects.filter(name__in=set(StaffMember.ROLE_GROUPS.values()))
        staff.user.groups.remove(*role_groups.exclude(name=staff.group_name))
        staff.user.groups.add(*role_groups.filter(name=staff.group_name))
    return staff


def _prepare_contact(contact: ContactPoint, by: Any) -> None:
    # Normalised before the checks, so "07700 900123" and "+447700900123" are one number to
    # the uniqueness check as they are to the database.
    if contact.channel == ContactPoint.Channel.SMS:
        contact.value = normalise_mobile(contact.value)  # unparsable input comes back as is
    elif contact.channel == ContactPoint.Channel.EMAIL:
        contact.value = contact.value.strip().lower()
    # The database requires the time of a consent; who recorded it is kept for the audit.
    if not contact.consent_given:
        contact.consent_recorded_at = None
        contact.consent_recorded_by = None
    elif contact.consent_recorded_at is None:
        contact.consent_recorded_at = timezone.now()
        contact.consent_recorded_by = by


@transaction.atomic
def add_contact_point(patient: Patient, *, by: Any, **fields: Any) -> ContactPoint:
    """Add a mobile number or email address for a person, with their consent if given."""
    contact = ContactPoint(patient=patient, **fields)
    _prepare_contact(contact, by)
    _save_checked(contact, {})
    return contact


@transaction.atomic
def update_contact_point(contact: ContactPoint, *, by: Any, **fields: Any) -> ContactPoint:
    """Change a contact point; withdrawing consent keeps the record but stops messages."""
    for name, value in fields.items():
        setattr(contact, name, value)
    _prepare_contact(contact, by)
    _save_checked(contact, {})
    return contact


@transaction.atomic
def opt_out_contact_point(contact: ContactPoint, *, by: Any) -> ContactPoint:
    """Record that the person asked for no more messages here (as a STOP reply does)."""
    if contact.opted_out_at is None:
        contact.opted_out_at = timezone.now()
        contact.save(update_fields=["opted_out_at"])
    return contact
