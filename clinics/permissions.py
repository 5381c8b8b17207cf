"""What each user may see in clinics: querysets scoped to the user's organisation.

Every list and detail (admin, API, web) starts from these helpers, so a record of another
organisation is simply not there: a 404, never a 403 that confirms it exists.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from clinics.models import ContactPoint, MobileUnit, Organisation, Patient, StaffMember, Venue


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


def organisations_for(user: Any) -> QuerySet[Organisation]:
    return scope_to_organisation(Organisation.objects.all(), user, field="pk", person_level=False)


def venues_for(user: Any) -> QuerySet[Venue]:
    return scope_to_organisation(Venue.objects.all(), user, person_level=False)


def usable_venues_for(user: Any) -> QuerySet[Venue]:
    """Venues a user may hold sessions at: any active one, and their own retired ones."""
    if sees_everything(user):
        return Venue.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Venue.objects.none()
    own = Q(organisation__in=organisation_ids_for(user))
    return Venue.objects.filter(Q(is_active=True) | own)


def mobile_units_for(user: Any) -> QuerySet[MobileUnit]:
    return scope_to_organisation(MobileUnit.objects.all(), user, person_level=False)


def staff_members_for(user: Any) -> QuerySet[StaffMember]:
    # __str__ names the user, the role and the organisation: join them for pickers and lists.
    return scope_to_organisation(StaffMember.objects.select_related("user", "organisation"), user)


def staff_directory_for(user: Any) -> QuerySet[StaffMember]:
    """Staff for rotas and reports: names and roles only, so analysts see them too."""
    return scope_to_organisation(
        StaffMember.objects.select_related("user", "organisation"), user, person_level=False
    )


def contact_points_for(user: Any) -> QuerySet[ContactPoint]:
    return scope_to_organisation(ContactPoint.objects.all(), user, field="patient__organisation")


def users_for(user: Any) -> QuerySet:
    """Users who may be named on a record: the staff of the user's own organisations."""
    users = get_user_model().objects.all()
    if sees_everything(user):
        return users
    return users.filter(staff__organisation_id__in=organisation_ids_for(user))
