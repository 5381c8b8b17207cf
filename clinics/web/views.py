"""The people pages: find a person, register a person.

A person's own page (their bookings, referrals and messages) is outreach_web:person, which can
read the sessions this app knows nothing about.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clinics.access_log import record_patient_access
from clinics.permissions import patients_for, sees_person_level_data, staff_for
from clinics.services import register_patient
from clinics.web.forms import FindPersonForm, RegisterPersonForm
from clinics.web.search import find_people


def _require_person_level(request: HttpRequest) -> None:
    # Analysts see aggregates only and auditors the access log; every other role works with people.
    if not sees_person_level_data(request.user) or staff_for(request.user) is None:
        raise PermissionDenied


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """Search by name, date of birth or NHS number; htmx asks for the results alone."""
    _require_person_level(request)
    form = FindPersonForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        results = find_people(
            patients_for(request.user),
            name=form.cleaned_data["name"],
            date_of_birth=form.cleaned_data["date_of_birth"],
            nhs_number=form.cleaned_data["nhs_number"],
        )
    # One entry for the results page, whether htmx asked for them alone or with the page.
    record_patient_access(request, results, action="search", via="web")
    context = {"form": form, "results": results, "walk_in": request.GET.get("walk_in", "")}
    if request.htmx and not request.htmx.boosted:
        return render(request, "clinics/_people_results.html", context)
    return render(request, "clinics/people.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register a person: a preferred name is all that is needed."""
    _require_person_level(request)
    staff = staff_for(request.user)
    initial = {"preferred_name": request.GET.get("name", "")}
    form = RegisterPersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = register_patient(
                organisation=staff.organisation, by=request.user, **form.patient_fields()
            )
        except IntegrityError:
            # Another registration with the same NHS number won the race.
            form.add_error("nhs_number", "Someone with this NHS number is already registered.")
        else:
            messages.success(request, f"{person.preferred_name} is registered.")
            return redirect(reverse("outreach_web:person", args=[person.pk]))
    return render(request, "clinics/register.html", {"form": form})
