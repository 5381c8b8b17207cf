"""The referral board: the coordinator worklists, one referral's moves, chases and history.

Every move goes through referrals.services with the status the coordinator saw
(`expected_status`), so when two people act on the same referral at once the second is told,
in a sentence, that someone else moved it, instead of overwriting a state they never saw.
"""

from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinics.access_log import record_patient_access
from clinics.domain import DomainError, IllegalTransition
from referrals import services
from referrals.models import Referral
from referrals.permissions import chases_for, get_referral_for, referrals_for
from referrals.web.board_forms import MOVES, ChaseForm

PAGE_SIZE = 50

# The worklists, in the order of their tabs: (label, the queryset filter, its order).
WORKLISTS: dict[str, tuple[str, str]] = {
    "overdue": ("Awaiting a response, past due", "due_date"),
    "accepted-not-booked": ("Accepted but not booked", "responded_at"),
    "attended-not-closed": ("Attended but not closed", "attended_at"),
    "mine": ("Mine", "due_date"),
}
# The keys worklist_counts answers with, by list name.
COUNT_KEYS = {
    "overdue": "overdue",
    "accepted-not-booked": "accepted_not_booked",
    "attended-not-closed": "attended_not_closed",
    "mine": "mine",
}


def is_htmx(request: HttpRequest) -> bool:
    # Set by django_htmx's middleware: true when htmx asked for a fragment of the page.
    return bool(getattr(request, "htmx", False))


def worklist(name: str, referrals: Any, *, user: Any, now: Any) -> Any:
    """One worklist, narrowed from the user's scoped referrals, the same as the API's."""
    today = timezone.localdate(now)
    if name == "overdue":
        return referrals.overdue(today)
    if name == "accepted-not-booked":
        before = now - timedelta(days=settings.OUTREACH_REFERRAL_BOOKING_DAYS)
        return referrals.accepted_not_booked(before)
    if name == "attended-not-closed":
        return referrals.attended_not_closed()
    return referrals.made_by(user)


@login_required
@permission_required("referrals.view_referral", raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    """The four worklists with their counts; one is open, overdue rows stand out."""
    name = request.GET.get("list", "overdue")
    if name not in WORKLISTS:
        name = "overdue"
    now = timezone.now()
    today = timezone.localdate(now)
    referrals = referrals_for(request.user)
    counts = services.worklist_counts(referrals, user=request.user, now=now)
    label, order = WORKLISTS[name]
    rows = (
        worklist(name, referrals, user=request.user, now=now)
        .select_related("patient", "destination")
        .order_by(order, "id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for referral in page.object_list:
        referral.overdue_days = _overdue_days(referral, today)
    # The open worklist names the people on this page of it (the tab counts name nobody).
    record_patient_access(
        request, [r.patient_id for r in page.object_list], action="list", via="web"
    )
    tabs = [
        {"name": key, "label": title, "count": counts[COUNT_KEYS[key]], "current": key == name}
        for key, (title, _) in WORKLISTS.items()
    ]
    context = {"tabs": tabs, "name": name, "label": label, "page": page, "today": today}
    template = "_worklist.html" if is_htmx(request) else "board.html"
    return render(request, f"referrals/board/{template}", context)


def _overdue_days(referral: Referral, today: Any) -> int:
    if referral.status != Referral.Status.SENT or referral.due_date is None:
        return 0
    return max((today - referral.due_date).days, 0)


def moves_for(referral: Referral) -> list[dict[str, Any]]:
    """The buttons for the moves the transition table allows from the current status."""
    allowed = Referral.NEXT_STATUSES.get(Referral.Status(referral.status), set())
    return [
        {
            "to": to,
            "label": MOVES[to]["label"],
            "form": MOVES[to]["form"](
                initial={"expected_status": referral.status}, prefix=f"move-{to}"
            ),
        }
        for to in MOVES
        if to in allowed
    ]


def timeline(referral: Referral) -> list[dict[str, Any]]:
    """Every change, newest first: who, when, what changed (in words) and why."""
    # By id too: changes made in one instant (a frozen clock, one request) keep their order.
    entries = list(
        referral.history.select_related("history_user").order_by("history_date", "history_id")
    )
    fields = {f.name: f for f in Referral._meta.fields}
    shown = []
    previous_of = {entry.history_id: before for before, entry in pairwise(entries)}
    for entry in entries:
        before = previous_of.get(entry.history_id)
        changes = []
        if before is not None:
            for change in entry.diff_against(before).changes:
                field = fields.get(change.field)
                changes.append(
                    {
                        "field": field.verbose_name.capitalize() if field else change.field,
                        "old": _shown(field, change.old),
                        "new": _shown(field, change.new),
                    }
                )
        user = entry.history_user
        shown.append(
            {
                "at": entry.history_date,
                "by": (user.get_full_name() or user.get_username()) if user else "The system",
                "kind": {"+": "Created", "~": "Changed", "-": "Deleted"}[entry.history_type],
                "reason": entry.history_change_reason or "",
                "changes": changes,
            }
        )
    return list(reversed(shown))


def _shown(field: Any, value: Any) -> str:
    if value in (None, ""):
        return "none"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%d %b %Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    if field is not None and field.is_relation:
        return f"#{value}"
    return str(value)


def _detail_context(request: HttpRequest, referral: Referral, **extra: Any) -> dict[str, Any]:
    moves = moves_for(referral)
    for move in moves:
        if move["to"] == extra.get("failed_move"):
            move["form"] = extra["failed_form"]
            move["open"] = True
    today = timezone.localdate()
    referral.overdue_days = _overdue_days(referral, today)
    return {
        "referral": referral,
        "moves": moves if request.user.has_perm("referrals.change_referral") else [],
        "chases": chases_for(request.user).filter(referral=referral).select_related("chased_by"),
        "chase_form": extra.get("chase_form") or ChaseForm(),
        "may_chase": request.user.has_perm("referrals.add_referralchase")
        and referral.status in services.CHASEABLE,
        "timeline": timeline(referral),
        "problem": extra.get("problem"),
    }


def _detail_page(
    request: HttpRequest, referral: Referral, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The referral's page, shown or shown again after a refusal: a read of the person's record."""
    context = _detail_context(request, referral, **extra)
    record_patient_access(request, referral.patient_id, action="view", via="web")
    return render(request, "referrals/board/detail.html", context, status=status)


def _scoped(request: HttpRequest, pk: int) -> Referral:
    return get_referral_for(request.user, pk)


@login_required
@permission_required("referrals.view_referral", raise_exception=True)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One referral: where it is, the moves it can make, its chases and its history."""
    return _detail_page(request, _scoped(request, pk))


@login_required
@permission_required("referrals.change_referral", raise_exception=True)
@require_POST
def referral_move(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    """Make one move; a stale or refused move is explained, and what was typed is kept."""
    referral = _scoped(request, pk)
    if to not in MOVES:
        raise Http404("No such move.")
    form = MOVES[to]["form"](request.POST, prefix=f"move-{to}")
    if not form.is_valid():
        return _detail_page(request, referral, status=400, failed_move=to, failed_form=form)
    data = dict(form.cleaned_data)
    try:
        moved = _call_service(referral, to, by=request.user, **data)
    except DomainError as error:
        return _refused(request, pk, to, form, data["expected_status"], error)
    messages.success(request, f"Referral #{moved.pk} is now {moved.get_status_display().lower()}.")
    return redirect("board-referral", pk=referral.pk)


def _refused(
    request: HttpRequest, pk: int, to: str, form: Any, expected: str, error: DomainError
) -> HttpResponse:
    """Explain a refused move on the referral as it is now, keeping what was typed."""
    fresh = _scoped(request, pk)
    if error.code == "stale_status" or fresh.status != expected:
        problem = (
            "Someone else moved it",
            f"Someone else moved this referral to '{fresh.get_status_display()}' while you "
            "were looking at it, so your change was not made. Here it is as it is now: check "
            "it and choose again.",
        )
        return _detail_page(request, fresh, status=409, problem=problem)
    if isinstance(error, IllegalTransition):
        problem = (
            "This move cannot be made",
            f"This referral is {fresh.get_status_display().lower()}, so it cannot move to "
            f"'{Referral.Status(to).label}'.",
        )
        return _detail_page(request, fresh, status=409, problem=problem)
    form.add_error(None, error.detail)
    for name, message in (error.extra.get("fields") or {}).items():
        if name in form.fields:
            form.add_error(name, message)
    return _detail_page(request, fresh, status=error.status_code, failed_move=to, failed_form=form)


def _call_service(
    referral: Referral, to: str, *, by: Any, expected_status: str, **data: Any
) -> Referral:
    Status = Referral.Status
    common = {"by": by, "expected_status": expected_status}
    if to == Status.SENT:
        return services.send_referral(referral, **common)
    if to == Status.ACCEPTED:
        return services.accept_referral(referral, notes=data["notes"], **common)
    if to == Status.REJECTED:
        return services.reject_referral(
            referral, rejection_reason=data["rejection_reason"], notes=data["notes"], **common
        )
    if to == Status.BOOKED:
        return services.book_referral(referral, appointment_at=data["appointment_at"], **common)
    if to == Status.ATTENDED:
        return services.attend_referral(referral, **common)
    if to == Status.CLOSED:
        return services.close_referral(referral, notes=data["notes"], **common)
    if to == Status.WITHDRAWN:
        return services.withdraw_referral(referral, reason=data["reason"], **common)
    return services.mark_lost_to_follow_up(referral, note=data["reason"], **common)


@login_required
@permission_required("referrals.add_referralchase", raise_exception=True)
@require_POST
def referral_chase(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a chase; enough failed ones and the service marks the referral lost."""
    referral = _scoped(request, pk)
    form = ChaseForm(request.POST)
    if form.is_valid():
        try:
            services.record_chase(referral, by=request.user, **form.cleaned_data)
        except DomainError as error:
            problem = ("This referral cannot be chased", error.detail)
            return _detail_page(request, _scoped(request, pk), status=409, problem=problem)
        else:
            fresh = _scoped(request, pk)
            note = (
                " It is now marked lost to follow-up."
                if fresh.status == Referral.Status.LOST
                else ""
            )
            messages.success(request, f"Chase recorded.{note}")
            return redirect("board-referral", pk=pk)
    return _detail_page(request, _scoped(request, pk), status=400, chase_form=form)
