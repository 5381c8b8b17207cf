"""A booking on the day: check in, did not attend, the visit outcome, cancel."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from config.forms import add_domain_error
from outreach import services
from outreach.models import Booking
from outreach.permissions import get_booking_for, outcomes_for
from outreach.web import panels
from outreach.web.access import person_level_required
from outreach.web.forms import (
    CancelForm,
    OutcomeForm,
)


def _back_to_today(booking: Booking) -> HttpResponse:
    return redirect(f"{reverse('outreach_web:today')}#session-{booking.session_id}")


@require_POST
@person_level_required
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking_for(request.user, pk)
    try:
        services.check_in(booking, by=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{booking.patient.preferred_name} is checked in.")
    return _back_to_today(booking)


@require_POST
@person_level_required
def no_show(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking_for(request.user, pk)
    try:
        services.mark_no_show(booking, by=request.user)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{booking.patient.preferred_name} is marked as not attended.")
    return _back_to_today(booking)


def _booking_page(
    request: HttpRequest,
    booking: Booking,
    *,
    outcome_form: OutcomeForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "booking": booking,
        "outcome_form": outcome_form or OutcomeForm(),
        "cancel_form": cancel_form or CancelForm(),
        "can_record": booking.status == Booking.Status.ARRIVED,
        "can_cancel": booking.status == Booking.Status.BOOKED,
    }
    record_patient_access(request, booking.patient_id, action="view", via="web")
    return render(request, "outreach/booking.html", context, status=status)


@require_GET
@person_level_required
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking_for(request.user, pk)
    if hasattr(booking, "outcome"):
        return redirect("outreach_web:outcome", pk=booking.pk)
    return _booking_page(request, booking)


@require_POST
@person_level_required
def record_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking_for(request.user, pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.record_visit(
                booking,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                result=form.cleaned_data["result"],
                follow_up_date=form.cleaned_data["follow_up_date"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{booking.patient.preferred_name} is recorded as seen.")
            return redirect("outreach_web:outcome", pk=booking.pk)
    return _booking_page(request, booking, outcome_form=form, status=400)


@require_POST
@person_level_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking_for(request.user, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_booking(
                booking,
                by=request.user,
                cancelled_by=form.cleaned_data["cancelled_by"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, f"The booking for {booking.patient.preferred_name} is cancelled."
            )
            return _back_to_today(booking)
    return _booking_page(request, booking, cancel_form=form, status=400)


@require_GET
@person_level_required
def outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """What was recorded, and what the result suggests next (referrals plug in here)."""
    booking = get_booking_for(request.user, pk)
    visit = outcomes_for(request.user).filter(booking=booking).first()
    if visit is None:
        return redirect("outreach_web:booking", pk=booking.pk)
    visit.booking = booking
    record_patient_access(request, booking.patient_id, action="view", via="web")
    return render(
        request,
        "outreach/outcome.html",
        {
            "booking": booking,
            "visit": visit,
            "panels": panels.render_panels(panels.OUTCOME_PANELS, request, visit),
        },
    )
