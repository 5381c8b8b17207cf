"""Querysets of referrals scoped to what a user may see; the directory is shared by all.

Referrals widen to a partner organisation's under a CARE data-sharing agreement; a referral
made from a booking or outcome of a sensitive service is hidden from staff without the
sensitive-services permission (clinics.permissions).
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clinics.governance import SharingRecords
from clinics.permissions import hide_sensitive, scope_to_organisation
from referrals.models import Destination, Referral, ReferralChase

_SENSITIVE_SOURCES = (
    "source_booking__service_type__sensitive",
    "source_outcome__booking__service_type__sensitive",
)


def destinations_for(user: Any) -> QuerySet[Destination]:
    if not getattr(user, "is_authenticated", False):
        return Destination.objects.none()
    return Destination.objects.all()


def referrals_for(user: Any) -> QuerySet[Referral]:
    referrals = scope_to_organisation(Referral.objects.all(), user, shared=SharingRecords.CARE)
    return hide_sensitive(referrals, user, *_SENSITIVE_SOURCES)


def get_referral_for(user: Any, pk: Any) -> Referral:
    return get_object_or_404(referrals_for(user), pk=pk)


def chases_for(user: Any) -> QuerySet[ReferralChase]:
    chases = scope_to_organisation(
        ReferralChase.objects.all(),
        user,
        field="referral__organisation",
        shared=SharingRecords.CARE,
    )
    return hide_sensitive(chases, user, *(f"referral__{flag}" for flag in _SENSITIVE_SOURCES))
