"""What each user may see in clinics: querysets scoped to the user's organisation.

Every list and detail (admin, API, web) starts from these helpers, so a record of another
organisation is simply not there: a 404, never a 403 that confirms it exists.
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clinics.models import Patient, StaffMember


def staff_for(user: Any) -> StaffMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except StaffMember.DoesNotExist:
        return None


def sees_everything(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def organisation_ids_for(user: Any) -> list[int]:
    """The organisations whose records `user` may see (later widened by sharing agreements)."""
    staff = staff_for(user)
    if staff is None or not staff.is_active or not user.is_active:
        return []
    return [staff.organisation_id]


def sees_person_level_data(user: Any) -> bool:
    """Analysts work with aggregates only; every other active role sees records."""
    if sees_everything(user):
        return True
    staff = staff_for(user)
    return staff is not None and staff.role != StaffMember.Role.ANALYST


def scope_to_organisation(
    queryset: QuerySet, user: Any, *, field: str = "organisation", person_level: bool = True
) -> QuerySet:
    """Filter `queryset` to rows whose `field` is one of the user's organisations."""
    if sees_everything(user):
        return queryset
    if person_level and not sees_person_level_data(user):
        return queryset.none()
    return queryset.filter(**{f"{field}__in": organisation_ids_for(user)})


def patients_for(user: Any) -> QuerySet[Patient]:
    return scope_to_organisation(Patient.objects.all(), user)


def get_patient_for(user: Any, pk: Any) -> Patient:
    return get_object_or_404(patients_for(user), pk=pk)
