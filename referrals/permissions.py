"""Querysets of referrals scoped to what a user may see; the directory is shared by all."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clinics.permissions import scope_to_organisation
from referrals.models import Destination, Referral, ReferralChase


def destinations_for(user: Any) -> QuerySet[Destination]:
    if not getattr(user, "is_authenticated", False):
        return Destination.objects.none()
    return Destination.objects.all()


def referrals_for(user: Any) -> QuerySet[Referral]:
    return scope_to_organisation(Referral.objects.all(), user)


def get_referral_for(user: Any, pk: Any) -> Referral:
    return get_object_or_404(referrals_for(user), pk=pk)


def chases_for(user: Any) -> QuerySet[ReferralChase]:
    return scope_to_organisation(ReferralChase.objects.all(), user, field="referral__organisation")
