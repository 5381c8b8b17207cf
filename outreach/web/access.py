"""Who may use the nurse's pages, and the sessions on today."""

from datetime import time, timedelta
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinics.models import ServiceType
from clinics.permissions import hide_sensitive, sees_everything, sees_person_level_data, staff_for
from outreach import services
from outreach.models import OutreachSession
from outreach.permissions import sessions_for


def person_level_required(view: Any) -> Any:
    """Signed in, and a role that works with people (not an analyst or an auditor)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sees_person_level_data(request.user) or (
            staff_for(request.user) is None and not sees_everything(request.user)
        ):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def today_bounds() -> tuple[Any, Any]:
    today = timezone.localdate(timezone.now(), services.london())
    return (
        services.local_datetime(today, time.min),
        services.local_datetime(today + timedelta(days=1), time.min),
    )


def todays_sessions(user: Any, *, mine_only: bool) -> QuerySet[OutreachSession]:
    """Sessions on today (London), the user's own rota when `mine_only`."""
    start, end = today_bounds()
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


def get_today_session(request: HttpRequest, pk: int) -> OutreachSession:
    return get_object_or_404(todays_sessions(request.user, mine_only=False), pk=pk)


def bookable_services(user: Any, services: QuerySet[ServiceType] | None = None) -> QuerySet:
    """The active services `user` may book: sensitive ones only with the sensitive permission.

    Without it a nurse could book someone into a clinic whose bookings they may not see.
    """
    services = ServiceType.objects.all() if services is None else services
    return hide_sensitive(services.filter(is_active=True), user, "sensitive").order_by("name")
