"""Today: the day's sessions with live counts, and adding a walk-in to one."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from clinics.models import ServiceType, StaffMember
from clinics.permissions import (
    patients_for,
    staff_for,
)
from clinics.services import register_patient
from clinics.web.search import find_people
from config.forms import add_domain_error
from outreach import services
from outreach.models import Booking, OutreachSession
from outreach.permissions import bookings_for
from outreach.web.access import (
    bookable_services,
    get_today_session,
    person_level_required,
    today_bounds,
    todays_sessions,
)
from outreach.web.forms import (
    NEW_PERSON,
    WalkInForm,
)

_APPOINTMENT_SOURCES = [Booking.Source.BOOKED, Booking.Source.SELF_REFERRAL]


def _counts(request: HttpRequest, session: OutreachSession) -> dict[str, int]:
    # Counted from the scoped bookings: a hidden sensitive booking is not a number here either.
    status = Booking.Status
    return (
        bookings_for(request.user)
        .filter(session=session)
        .aggregate(
            booked=Count("pk", filter=Q(status=status.BOOKED)),
            arrived=Count("pk", filter=Q(status=status.ARRIVED, source__in=_APPOINTMENT_SOURCES)),
            seen=Count("pk", filter=Q(status=status.FULFILLED)),
            no_show=Count("pk", filter=Q(status=status.NOSHOW)),
            waiting=Count("pk", filter=Q(status=status.ARRIVED, source=Booking.Source.WALK_IN)),
        )
    )


def _mine_only(request: HttpRequest) -> bool:
    staff = staff_for(request.user)
    clinical = staff is not None and staff.role in StaffMember.CLINICAL_ROLES
    return clinical and request.GET.get("all") != "1"


@require_GET
@person_level_required
def today(request: HttpRequest) -> HttpResponse:
    """The day's sessions, each with its bookings in time order and the walk-in queue."""
    mine_only = _mine_only(request)
    shown = Booking.Status.BOOKED, Booking.Status.ARRIVED, Booking.Status.FULFILLED
    bookings = bookings_for(request.user)
    appointments = (
        bookings.filter(status__in=[*shown, Booking.Status.NOSHOW])
        .exclude(source=Booking.Source.WALK_IN, status=Booking.Status.ARRIVED)
        .select_related("patient", "service_type")
        .order_by("starts_at", "lane", "pk")
    )
    queue = (
        bookings.filter(status=Booking.Status.ARRIVED, source=Booking.Source.WALK_IN)
        .select_related("patient", "service_type")
        .order_by("arrived_at", "pk")
    )
    sessions = list(
        todays_sessions(request.user, mine_only=mine_only).prefetch_related(
            Prefetch("bookings", queryset=appointments, to_attr="appointments"),
            Prefetch("bookings", queryset=queue, to_attr="queue"),
        )
    )
    for session in sessions:
        session.counts = _counts(request, session)
    record_patient_access(
        request,
        [b.patient_id for s in sessions for b in (*s.appointments, *s.queue)],
        action="list",
        via="web",
    )
    return render(
        request,
        "outreach/today.html",
        {"sessions": sessions, "mine_only": mine_only, "day": today_bounds()[0]},
    )


@require_GET
@person_level_required
def session_counts(request: HttpRequest, pk: int) -> HttpResponse:
    """The counts of one session, for htmx to poll."""
    session = get_today_session(request, pk)
    return render(
        request, "outreach/_counts.html", {"session": session, "counts": _counts(request, session)}
    )


def _walk_in_services(request: HttpRequest, session: OutreachSession) -> QuerySet[ServiceType]:
    return bookable_services(request.user, session.services.all())


@require_http_methods(["GET", "POST"])
@person_level_required
def walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Add someone to a session's walk-in queue: found by name, or registered there and then."""
    session = get_today_session(request, pk)
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()
    people = find_people(patients_for(request.user), name=query)[:10] if query else []
    form = WalkInForm(
        request.POST or None,
        people=people,
        services=_walk_in_services(request, session),
        initial={"new_name": query, "person": NEW_PERSON if query and not people else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            # Registering someone new and queueing them succeed or fail together.
            with transaction.atomic():
                person = form.chosen_person()
                if person is None:
                    person = register_patient(
                        organisation=session.organisation,
                        by=request.user,
                        preferred_name=form.cleaned_data["new_name"].strip(),
                    )
                services.add_walk_in(
                    patient=person,
                    session=session,
                    service=form.cleaned_data["service"],
                    by=request.user,
                    notes=form.cleaned_data["notes"],
                )
        except DomainError as error:
            add_domain_error(form, error, fields={"patient": "person"})
        else:
            messages.success(request, f"{person.preferred_name} is in the walk-in queue.")
            return redirect(f"{reverse('outreach_web:today')}#session-{session.pk}")
    status = 400 if request.method == "POST" else 200
    # The names found are shown to choose from: a search of people, logged as one.
    record_patient_access(request, people, action="search", via="web")
    return render(
        request,
        "outreach/walk_in.html",
        {"session": session, "form": form, "query": query},
        status=status,
    )
