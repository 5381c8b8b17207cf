"""The coordinator's session planner: week and month views, series and cancellations.

Views stay thin: the planner's query and grouping live in outreach.web.planning, every write
goes through outreach.services, and every record comes from a scoped queryset, so another
organisation's session or series is a 404.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinics.domain import DomainError
from clinics.permissions import contact_points_for, staff_for
from outreach import services
from outreach.models import Booking, OutreachSession
from outreach.permissions import bookings_for, get_session_for, series_for
from outreach.web import planning
from outreach.web.planner_forms import CancelSessionForm, SeriesForm

# Who may plan: the roles that can change sessions (coordinators and admins).
PLAN = "outreach.change_outreachsession"

# Where a service's refusal belongs on the series form, by its code.
CONFLICT_FIELDS = {"unit_clash": "mobile_unit", "staff_clash": "staff"}


def is_htmx(request: HttpRequest) -> bool:
    # Set by django_htmx's middleware: true when htmx asked for a fragment of the page.
    return bool(getattr(request, "htmx", False))


def _anchor(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return timezone.localdate()


@login_required
@permission_required(PLAN, raise_exception=True)
def planner(request: HttpRequest) -> HttpResponse:
    """Sessions of a week or a month, one row per bus, venue or member of staff."""
    view = request.GET.get("view") if request.GET.get("view") in planning.VIEWS else "week"
    group = request.GET.get("group") if request.GET.get("group") in planning.GROUPS else "unit"
    period = planning.Period.around(view, _anchor(request.GET.get("date", "")))
    sessions = planning.decorate(list(planning.planner_sessions(request.user, period)))
    rows = planning.group_rows(sessions, group)
    today = timezone.localdate()
    for row in rows:
        row.lay_out(period, today)
    clashing = [s for s in sessions if s.clashes]
    context = {
        "period": period,
        "view": view,
        "group": group,
        "groups": planning.GROUPS,
        "rows": rows,
        "sessions": sessions,
        "clashing": clashing,
        "today": today,
        "view_choices": [("week", "Week"), ("month", "Month")],
        "may_create": request.user.has_perm("outreach.add_sessionseries"),
    }
    template = "_body.html" if is_htmx(request) else "planner.html"
    return render(request, f"outreach/planner/{template}", context)


@login_required
@permission_required("outreach.add_sessionseries", raise_exception=True)
@require_http_methods(["GET", "POST"])
def series_create(request: HttpRequest) -> HttpResponse:
    """Plan a recurring clinic; a clash refused by the service is shown next to its field."""
    form = SeriesForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial=_series_initial(request),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid() and _create_series(request, form):
            return redirect("planner-series", pk=form.series.pk)
        status = 400
    context = {"form": form, "horizon_weeks": settings.OUTREACH_SERIES_HORIZON_WEEKS}
    return render(request, "outreach/planner/series_form.html", context, status=status)


def _series_initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {"start_date": timezone.localdate()}
    if request.GET.get("date"):
        initial["start_date"] = _anchor(request.GET["date"])
    return initial


def _create_series(request: HttpRequest, form: SeriesForm) -> bool:
    staff = staff_for(request.user)
    if staff is None:
        form.add_error(None, "Your account is not linked to an organisation.")
        return False
    data = dict(form.cleaned_data)
    try:
        form.series = services.create_series(
            organisation=staff.organisation,
            by=request.user,
            services=data.pop("services"),
            staff=data.pop("staff"),
            **data,
        )
    except DomainError as error:
        show_domain_error(form, error, CONFLICT_FIELDS)
        return False
    count = form.series.sessions.count()
    messages.success(request, f"Series planned: {count} session{'s' if count != 1 else ''}.")
    return True


def show_domain_error(form: Any, error: DomainError, conflict_fields: dict[str, str]) -> None:
    """Put a service's refusal on the form: its field errors, or its sentence by the field."""
    fields = error.extra.get("fields") or {}
    placed = False
    for name, message in fields.items():
        if name in form.fields:
            form.add_error(name, message if isinstance(message, str) else " ".join(message))
            placed = True
    if placed:
        return
    name = conflict_fields.get(error.code)
    form.add_error(name if name in form.fields else None, error.detail)


@login_required
@permission_required(PLAN, raise_exception=True)
def series_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A series' recurrence and every session it has created."""
    series = get_object_or_404(
        series_for(request.user).select_related("venue", "mobile_unit").prefetch_related("staff"),
        pk=pk,
    )
    sessions = (
        series.sessions.select_related("venue", "mobile_unit")
        .annotate(booked_count=planning.booked_count(request.user))
        .order_by("starts_at", "id")
    )
    weekdays = ", ".join(name for value, name in _weekday_names() if value in series.weekdays)
    return render(
        request,
        "outreach/planner/series_detail.html",
        {
            "series": series,
            "sessions": planning.decorate(
                list(sessions.prefetch_related(planning.assignments_prefetch()))
            ),
            "weekdays": weekdays,
            "now": timezone.now(),
        },
    )


def _weekday_names() -> list[tuple[int, str]]:
    return [(int(value), name) for value, name in SeriesForm.base_fields["weekdays"].choices]


@login_required
@permission_required(PLAN, raise_exception=True)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One session as the planner sees it: where, when, who, how many booked, clashes."""
    session = get_session_for(request.user, pk)
    period = planning.Period.around("week", timezone.localdate(session.starts_at))
    # Clashes are found among the sessions around it, exactly as the planner finds them.
    around = planning.decorate(list(planning.planner_sessions(request.user, period)))
    shown = next((s for s in around if s.pk == session.pk), None)
    if shown is None:
        shown = planning.decorate([session])[0]
        shown.booked_count = bookings_for(request.user).filter(session=session).active().count()
    return render(
        request,
        "outreach/planner/session_detail.html",
        {"session": shown, "may_cancel": _may_cancel(shown), "now": timezone.now()},
    )


def _may_cancel(session: OutreachSession) -> bool:
    return OutreachSession.Status.CANCELLED in OutreachSession.NEXT_STATUSES.get(
        session.status, set()
    )


def people_to_tell(user: Any, session: OutreachSession) -> dict[str, int]:
    """How many booked people the cancellation messages, and how many can be reached."""
    reachable = contact_points_for(user).filter(
        patient=OuterRef("patient"), consent_given=True, opted_out_at__isnull=True
    )
    return (
        bookings_for(user)
        .filter(session=session, status=Booking.Status.BOOKED, starts_at__gt=timezone.now())
        .aggregate(
            booked=Count("pk"),
            reachable=Count("pk", filter=Q(Exists(reachable))),
        )
    )


@login_required
@permission_required(PLAN, raise_exception=True)
@require_http_methods(["GET", "POST"])
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel one occurrence with a reason; booked patients are told through the outbox."""
    session = get_session_for(request.user, pk)
    form = CancelSessionForm(request.POST if request.method == "POST" else None)
    status = 200
    counts = people_to_tell(request.user, session)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.cancel_session(
                    session, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                show_domain_error(form, error, {})
                status = error.status_code
            else:
                told = counts["booked"]
                messages.success(
                    request,
                    f"{session.name} is cancelled. "
                    + (
                        f"{told} booked {'person is' if told == 1 else 'people are'} being told."
                        if told
                        else "Nobody was booked."
                    ),
                )
                if session.series_id:
                    return redirect("planner-series", pk=session.series_id)
                return redirect(
                    reverse("planner") + f"?date={timezone.localdate(session.starts_at)}"
                )
    session = planning.decorate([session])[0]
    return render(
        request,
        "outreach/planner/session_cancel.html",
        {
            "session": session,
            "form": form,
            "counts": counts,
            "may_cancel": _may_cancel(session),
        },
        status=status,
    )
