"""The nurse's pages: Today, a booking and its outcome, walk-ins, a person's page.

Views stay thin: each write is one call to outreach.services (or clinics.services), whose
DomainError is shown as a sentence; what people see comes from the scoped querysets.
"""

from datetime import time, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.domain import DomainError
from clinics.models import Patient, ServiceType, StaffMember
from clinics.permissions import (
    get_patient_for,
    patients_for,
    sees_everything,
    sees_person_level_data,
    staff_for,
    venues_for,
)
from clinics.services import register_patient
from clinics.web.search import find_people
from config.forms import add_domain_error
from outreach import availability, services
from outreach.models import Booking, BookingMode, Message, OutreachSession
from outreach.permissions import bookings_for, get_booking_for, messages_for, sessions_for
from outreach.web import panels
from outreach.web.forms import (
    NEW_PERSON,
    CancelForm,
    NextSlotForm,
    OutcomeForm,
    PersonWalkInForm,
    WalkInForm,
)


def person_level_required(view: Any) -> Any:
    """Signed in, and a role that works with people (not an analyst)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sees_person_level_data(request.user) or (
            staff_for(request.user) is None and not sees_everything(request.user)
        ):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _today_bounds() -> tuple[Any, Any]:
    today = timezone.localdate(timezone.now(), services.london())
    return (
        services.local_datetime(today, time.min),
        services.local_datetime(today + timedelta(days=1), time.min),
    )


def todays_sessions(user: Any, *, mine_only: bool) -> QuerySet[OutreachSession]:
    """Sessions on today (London), the user's own rota when `mine_only`."""
    start, end = _today_bounds()
    sessions = (
        sessions_for(user)
        .filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status=OutreachSession.Status.CANCELLED)
        .select_related("venue", "mobile_unit")
        .order_by("starts_at", "pk")
    )
    staff = staff_for(user)
    if mine_only and staff is not None:
        sessions = sessions.filter(assignments__staff=staff, assignments__is_live=True).distinct()
    return sessions


def _counts(session: OutreachSession) -> dict[str, int]:
    status = Booking.Status
    return session.bookings.aggregate(
        booked=Count("pk", filter=Q(status=status.BOOKED)),
        arrived=Count("pk", filter=Q(status=status.ARRIVED, source__in=_APPOINTMENT_SOURCES)),
        seen=Count("pk", filter=Q(status=status.FULFILLED)),
        no_show=Count("pk", filter=Q(status=status.NOSHOW)),
        waiting=Count("pk", filter=Q(status=status.ARRIVED, source=Booking.Source.WALK_IN)),
    )


_APPOINTMENT_SOURCES = [Booking.Source.BOOKED, Booking.Source.SELF_REFERRAL]


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
    appointments = (
        Booking.objects.filter(status__in=[*shown, Booking.Status.NOSHOW])
        .exclude(source=Booking.Source.WALK_IN, status=Booking.Status.ARRIVED)
        .select_related("patient", "service_type")
        .order_by("starts_at", "lane", "pk")
    )
    queue = (
        Booking.objects.filter(status=Booking.Status.ARRIVED, source=Booking.Source.WALK_IN)
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
        session.counts = _counts(session)
    return render(
        request,
        "outreach/today.html",
        {"sessions": sessions, "mine_only": mine_only, "day": _today_bounds()[0]},
    )


@require_GET
@person_level_required
def session_counts(request: HttpRequest, pk: int) -> HttpResponse:
    """The counts of one session, for htmx to poll."""
    session = _get_today_session(request, pk)
    return render(
        request, "outreach/_counts.html", {"session": session, "counts": _counts(session)}
    )


def _get_today_session(request: HttpRequest, pk: int) -> OutreachSession:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(todays_sessions(request.user, mine_only=False), pk=pk)


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
    if not hasattr(booking, "outcome"):
        return redirect("outreach_web:booking", pk=booking.pk)
    return render(
        request,
        "outreach/outcome.html",
        {
            "booking": booking,
            "visit": booking.outcome,
            "panels": panels.render_panels(panels.OUTCOME_PANELS, request, booking.outcome),
        },
    )


def _walk_in_services(session: OutreachSession) -> QuerySet[ServiceType]:
    return session.services.filter(is_active=True).order_by("name")


@require_http_methods(["GET", "POST"])
@person_level_required
def walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Add someone to a session's walk-in queue: found by name, or registered there and then."""
    session = _get_today_session(request, pk)
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()
    people = find_people(patients_for(request.user), name=query)[:10] if query else []
    form = WalkInForm(
        request.POST or None,
        people=people,
        services=_walk_in_services(session),
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
    return render(
        request,
        "outreach/walk_in.html",
        {"session": session, "form": form, "query": query},
        status=status,
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
    bookable = ServiceType.objects.filter(is_active=True).order_by("name")
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
        services=ServiceType.objects.filter(is_active=True),
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
        slots = availability.search_slots(sessions, service, now=now, limit=1)
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
        services=ServiceType.objects.filter(is_active=True),
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
