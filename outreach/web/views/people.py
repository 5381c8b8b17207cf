"""A person's page: upcoming bookings, referrals, messages; book the next slot or walk in."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinics.access_log import record_patient_access
from clinics.domain import DomainError
from clinics.models import Patient
from clinics.permissions import (
    get_patient_for,
    venues_for,
)
from config.forms import add_domain_error
from outreach import availability, services
from outreach.models import Booking, BookingMode, Message, OutreachSession
from outreach.permissions import bookings_for, messages_for, sessions_for
from outreach.web import panels
from outreach.web.access import bookable_services, person_level_required, todays_sessions
from outreach.web.forms import (
    NextSlotForm,
    PersonWalkInForm,
)


def _horizon() -> timedelta:
    return timedelta(weeks=settings.OUTREACH_SERIES_HORIZON_WEEKS)


def _person_page(
    request: HttpRequest,
    person: Patient,
    *,
    next_form: NextSlotForm | None = None,
    walk_in_form: PersonWalkInForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    upcoming = (
        bookings_for(request.user)
        .filter(patient=person, status__in=[Booking.Status.BOOKED, Booking.Status.ARRIVED])
        .filter(ends_at__gte=now)
        .select_related("session__venue", "service_type")
        .order_by("starts_at")
    )
    sent = (
        messages_for(request.user)
        .filter(patient=person)
        .exclude(status=Message.Status.SCHEDULED)
        .order_by("-send_after")[:20]
    )
    walk_in_sessions = todays_sessions(request.user, mine_only=False).exclude(
        booking_mode=BookingMode.APPOINTMENTS
    )
    bookable = bookable_services(request.user)
    context = {
        "person": person,
        "upcoming": upcoming,
        "sent": sent,
        "panels": panels.render_panels(panels.PERSON_PANELS, request, person),
        "next_form": next_form
        or NextSlotForm(services=bookable, venues=venues_for(request.user).filter(is_active=True)),
        "walk_in_form": walk_in_form
        or PersonWalkInForm(
            sessions=walk_in_sessions,
            services=bookable,
            initial={"session": request.GET.get("walk_in") or None},
        ),
        "has_walk_in_sessions": walk_in_sessions.exists(),
    }
    # Also when a refused booking or walk-in shows the page again: the record is read again.
    record_patient_access(request, person, action="view", via="web")
    return render(request, "outreach/person.html", context, status=status)


@require_GET
@person_level_required
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's page: upcoming bookings, open referrals, messages sent, book or walk in."""
    return _person_page(request, get_patient_for(request.user, pk))


@require_POST
@person_level_required
def book_next(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the person into the next free slot of a service, optionally at one venue."""
    person = get_patient_for(request.user, pk)
    form = NextSlotForm(
        request.POST,
        services=bookable_services(request.user),
        venues=venues_for(request.user).filter(is_active=True),
    )
    if form.is_valid():
        service = form.cleaned_data["service"]
        now = timezone.now()
        sessions = sessions_for(request.user).filter(
            availability.sessions_offering(
                service, start=now - timedelta(days=1), end=now + _horizon()
            )
        )
        if form.cleaned_data["venue"]:
            sessions = sessions.filter(venue=form.cleaned_data["venue"])
        slots = availability.search_slots(sessions, service, now=now, limit=1, offered=True)
        if not slots:
            form.add_error(
                None,
                f"There are no free slots for {service.name} in the next "
                f"{settings.OUTREACH_SERIES_HORIZON_WEEKS} weeks.",
            )
        else:
            slot = slots[0]
            try:
                booking, _ = services.book_slot(
                    patient=person,
                    session=OutreachSession.objects.get(pk=slot.session_id),
                    service=service,
                    by=request.user,
                    starts_at=slot.starts_at,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                when = booking.starts_at.astimezone(services.london())
                messages.success(
                    request,
                    f"{person.preferred_name} is booked for {service.name} at "
                    f"{booking.session.venue.name} on {when:%A %-d %B at %H:%M}.",
                )
                return redirect("outreach_web:person", pk=person.pk)
    return _person_page(request, person, next_form=form, status=400)


@require_POST
@person_level_required
def person_walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the person to the walk-in queue of a session today."""
    person = get_patient_for(request.user, pk)
    form = PersonWalkInForm(
        request.POST,
        sessions=todays_sessions(request.user, mine_only=False),
        services=bookable_services(request.user),
    )
    if form.is_valid():
        session = form.cleaned_data["session"]
        try:
            services.add_walk_in(
                patient=person,
                session=session,
                service=form.cleaned_data["service"],
                by=request.user,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{person.preferred_name} is in the walk-in queue.")
            return redirect(f"{reverse('outreach_web:today')}#session-{session.pk}")
    return _person_page(request, person, walk_in_form=form, status=400)
