"""Referral sections on outreach pages: a person's open referrals, an outcome's suggestions."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from clinics.models import Patient
from outreach.models import VisitOutcome
from referrals.permissions import referrals_for
from referrals.services import suggest_referrals

# The referral's own page on the referral board, linked when that page exists.
REFERRAL_DETAIL_URL_NAME = "referrals_web:referral"


def _referral_url(pk: int) -> str:
    try:
        return reverse(REFERRAL_DETAIL_URL_NAME, args=[pk])
    except NoReverseMatch:
        return ""


def open_referrals(request: HttpRequest, person: Patient) -> dict[str, Any]:
    referrals = list(
        referrals_for(request.user)
        .filter(patient=person)
        .open()
        .select_related("destination")
        .order_by("-created_at")
    )
    for referral in referrals:
        referral.url = _referral_url(referral.pk)
    return {
        "template": "referrals/_person_referrals.html",
        "context": {"referrals": referrals, "person": person},
    }


def suggested_referrals(request: HttpRequest, visit: VisitOutcome) -> dict[str, Any] | None:
    """One button per destination a rule suggests for this result: one tap opens the form."""
    from referrals.models import ReferralRule

    person = visit.booking.patient
    buttons = []
    for suggestion in suggest_referrals(visit):
        rule = ReferralRule.objects.filter(
            is_active=True,
            service_code=visit.booking.service_type.code,
            result=visit.result,
            destination_category=suggestion["category"],
        ).first()
        for destination in suggestion["destinations"]:
            query = {"outcome": visit.pk, "destination": destination.pk}
            if rule is not None:
                query["rule"] = rule.pk
            buttons.append(
                {
                    "destination": destination,
                    "reason": suggestion["reason"],
                    "priority": suggestion["priority"],
                    "url": reverse("referrals_web:refer", args=[person.pk])
                    + "?"
                    + urlencode(query),
                }
            )
    return {
        "template": "referrals/_suggestions.html",
        "context": {"buttons": buttons, "person": person, "visit": visit},
    }
