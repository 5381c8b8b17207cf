"""Referring a person: the form a suggested referral opens, prefilled, sent in one more tap."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from clinics.permissions import get_patient_for, staff_for
from config.forms import add_domain_error
from outreach.permissions import outcomes_for
from outreach.web.access import person_level_required
from referrals.models import Referral, ReferralRule
from referrals.permissions import destinations_for
from referrals.services import create_referral
from referrals.web.forms import ReferralForm


@require_http_methods(["GET", "POST"])
@person_level_required
def refer(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer the person; ?outcome=&rule=&destination= prefill it from a suggestion."""
    person = get_patient_for(request.user, pk)
    staff = staff_for(request.user)
    if staff is None:
        # A superuser without an organisation cannot be the referrer of record.
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    visit = None
    if source.get("outcome"):
        visit = get_object_or_404(
            outcomes_for(request.user).select_related("booking"),
            pk=source["outcome"],
            booking__patient=person,
        )
    destinations = destinations_for(request.user).filter(is_active=True).order_by("name")
    initial = {"priority": Referral.Priority.ROUTINE}
    rule = ReferralRule.objects.filter(is_active=True, pk=request.GET.get("rule") or None).first()
    if rule is not None:
        initial.update(priority=rule.priority, reason=rule.reason)
    if request.GET.get("destination"):
        initial["destination"] = destinations.filter(pk=request.GET["destination"]).first()
    # The suggestion was made with the person there: the nurse has asked, and confirms here.
    initial["consent_to_share"] = rule is not None
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        destinations=destinations,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = create_referral(
                organisation=staff.organisation,
                patient=person,
                destination=form.cleaned_data["destination"],
                by=request.user,
                reason=form.cleaned_data["reason"],
                consent_to_share=True,
                consent_method=form.cleaned_data["consent_method"],
                priority=form.cleaned_data["priority"],
                source_outcome=visit,
                send=True,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Referral to {referral.destination.name} sent.")
            return redirect("outreach_web:person", pk=person.pk)
    status = 400 if request.method == "POST" else 200
    record_patient_access(request, person, action="view", via="web")
    return render(
        request,
        "referrals/refer.html",
        {"person": person, "form": form, "visit": visit},
        status=status,
    )
