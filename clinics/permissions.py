"""What each user may see in clinics: querysets scoped to the user's organisation.

Every list and detail (admin, API, web) starts from these helpers, so a record of another
organisation is simply not there: a 404, never a 403 that confirms it exists.

Three rules meet here (docs/access-control.md):
- organisation scope: staff see their own organisation's records, widened by the data-sharing
  agreements in force today (London date) with their organisation as the receiving party;
- person-level data: analysts and auditors see no lists of people (aggregates, and for
  auditors the access log and history of their organisation's patients);
- sensitive services: bookings, outcomes, waiting-list entries, referrals and messages of a
  sensitive service are hidden from staff without `clinics.view_sensitive_services`.
"""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, F, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinics.governance import DataSharingAgreement, SharingRecords
from clinics.models import (
    ApiToken,
    ContactPoint,
    MobileUnit,
    Organisation,
    Patient,
    StaffMember,
    Venue,
)

SENSITIVE_PERMISSION = "clinics.view_sensitive_services"
ACCESS_LOG_PERMISSION = "clinics.view_accesslogentry"
# Roles that never see lists of people: analysts work with aggregates, auditors with the log.
_NO_PERSON_LEVEL = {StaffMember.Role.ANALYST, StaffMember.Role.AUDITOR}


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
    """The user's own organisation: where their new records go and what they administer."""
    staff = staff_for(user)
    if staff is None or not staff.is_active or not user.is_active:
        return []
    return [staff.organisation_id]


def london_today() -> date:
    return timezone.now().astimezone(ZoneInfo(settings.OUTREACH_TIME_ZONE)).date()


def partner_organisation_ids(organisation_id: int, records: str) -> QuerySet:
    """A subquery of the organisations sharing `records` with `organisation_id` today.

    The sharing party of a one-way agreement received by the organisation, and the other party
    of a reciprocal one on either side. A CARE agreement also covers patient records. Used as
    `field__in=<this>`, it is one uncorrelated subquery, not a check per row.
    """
    levels = [SharingRecords.CARE]
    if records == SharingRecords.PATIENTS:
        levels.append(SharingRecords.PATIENTS)
    return (
        DataSharingAgreement.objects.in_force(london_today())
        .filter(records__in=levels)
        .filter(
            Q(receiving_organisation_id=organisation_id)
            | Q(sharing_organisation_id=organisation_id, reciprocal=True)
        )
        .annotate(
            partner=Case(
                When(receiving_organisation_id=organisation_id, then=F("sharing_organisation_id")),
                default=F("receiving_organisation_id"),
            )
        )
        .values("partner")
    )


def sees_person_level_data(user: Any) -> bool:
    """Analysts and auditors see no lists of people; every other active role sees records."""
    if sees_everything(user):
        return True
    staff = staff_for(user)
    return staff is not None and staff.role not in _NO_PERSON_LEVEL


def sees_sensitive_services(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(SENSITIVE_PERMISSION))


def may_use_service(user: Any, service: Any) -> bool:
    """Whether `user` may name `service` (book, plan, search): a sensitive one only with the
    sensitive-services permission.

    The check of one service already in hand, as `hide_sensitive(..., "sensitive")` is of a
    queryset: an ordinary service asks nothing, and the permission comes from the user's cached
    set, so neither costs a query.
    """
    return not service.sensitive or sees_sensitive_services(user)


def scope_to_organisation(
    queryset: QuerySet,
    user: Any,
    *,
    field: str = "organisation",
    person_level: bool = True,
    shared: str | None = None,
) -> QuerySet:
    """Filter `queryset` to rows whose `field` is the user's organisation.

    `shared` names the records (SharingRecords) an agreement must cover to widen the scope to
    a partner organisation's rows; None keeps the scope to the user's own organisation.
    """
    if sees_everything(user):
        return queryset
    if person_level and not sees_person_level_data(user):
        return queryset.none()
    own = organisation_ids_for(user)
    if not own:
        return queryset.none()
    if shared is None:
        return queryset.filter(**{field: own[0]})
    partners = partner_organisation_ids(own[0], shared)
    return queryset.filter(Q(**{field: own[0]}) | Q(**{f"{field}__in": partners}))


def reaches_organisation(
    user: Any, organisation_id: int, *, person_level: bool = True, shared: str | None = None
) -> bool:
    """Whether a row of `organisation_id` is in `scope_to_organisation` with the same arguments.

    The same rule asked of one row already read (a booking locks its rows by id first): no
    query unless the row is a partner organisation's.
    """
    if sees_everything(user):
        return True
    if person_level and not sees_person_level_data(user):
        return False
    own = organisation_ids_for(user)
    if not own:
        return False
    if organisation_id == own[0]:
        return True
    if shared is None:
        return False
    return partner_organisation_ids(own[0], shared).filter(partner=organisation_id).exists()


def hide_sensitive(queryset: QuerySet, user: Any, *flags: str) -> QuerySet:
    """Leave out rows where any of `flags` (paths to a `sensitive` flag) is true.

    Each path runs through foreign keys only, so this is a join, and a row whose path is empty
    (a referral not made from a booking) stays visible.
    """
    if sees_sensitive_services(user):
        return queryset
    for flag in flags:
        queryset = queryset.exclude(**{flag: True})
    return queryset


def patients_for(user: Any) -> QuerySet[Patient]:
    return scope_to_organisation(Patient.objects.all(), user, shared=SharingRecords.PATIENTS)


def get_patient_for(user: Any, pk: Any) -> Patient:
    return get_object_or_404(patients_for(user), pk=pk)


def audited_patients_for(user: Any) -> QuerySet[Patient]:
    """Patients whose access log and history the user may read: their own organisation's.

    Auditors, coordinators and admins hold the access log permission. Sharing agreements do
    not widen this: the controlling organisation answers for who looked at its records.
    """
    if not getattr(user, "is_authenticated", False) or not user.has_perm(ACCESS_LOG_PERMISSION):
        return Patient.objects.none()
    return scope_to_organisation(Patient.objects.all(), user, person_level=False)


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
    return scope_to_organisation(
        ContactPoint.objects.all(),
        user,
        field="patient__organisation",
        shared=SharingRecords.PATIENTS,
    )


def agreements_for(user: Any) -> QuerySet[DataSharingAgreement]:
    """Agreements the user's organisation is a party to (administration and audit)."""
    agreements = DataSharingAgreement.objects.select_related(
        "sharing_organisation", "receiving_organisation"
    )
    if sees_everything(user):
        return agreements
    own = organisation_ids_for(user)
    return agreements.filter(
        Q(sharing_organisation_id__in=own) | Q(receiving_organisation_id__in=own)
    )


def users_for(user: Any) -> QuerySet:
    """Users who may be named on a record: the staff of the user's own organisations."""
    users = get_user_model().objects.all()
    if sees_everything(user):
        return users
    return users.filter(staff__organisation_id__in=organisation_ids_for(user))


def api_tokens_for(user: Any) -> QuerySet[ApiToken]:
    """Tokens `user` may see and revoke: their own, and their staff's if they manage tokens."""
    tokens = ApiToken.objects.select_related("user", "revoked_by")
    if sees_everything(user):
        return tokens
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return tokens.none()
    own = Q(user=user)
    if user.has_perm("clinics.change_apitoken"):
        own |= Q(user__staff__organisation_id__in=organisation_ids_for(user))
    return tokens.filter(own)
