"""Querysets of sessions, bookings and messages scoped to what a user may see."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clinics.permissions import scope_to_organisation
from outreach.models import (
    Booking,
    Message,
    MessageTemplate,
    OutreachSession,
    SessionSeries,
    VisitOutcome,
    WaitlistEntry,
)


def series_for(user: Any) -> QuerySet[SessionSeries]:
    return scope_to_organisation(SessionSeries.objects.all(), user, person_level=False)


def sessions_for(user: Any) -> QuerySet[OutreachSession]:
    return scope_to_organisation(OutreachSession.objects.all(), user, person_level=False)


def get_session_for(user: Any, pk: Any) -> OutreachSession:
    return get_object_or_404(sessions_for(user), pk=pk)


def bookings_for(user: Any) -> QuerySet[Booking]:
    return scope_to_organisation(Booking.objects.all(), user, field="session__organisation")


def get_booking_for(user: Any, pk: Any) -> Booking:
    return get_object_or_404(bookings_for(user), pk=pk)


def outcomes_for(user: Any) -> QuerySet[VisitOutcome]:
    return scope_to_organisation(
        VisitOutcome.objects.all(), user, field="booking__session__organisation"
    )


def waitlist_for(user: Any) -> QuerySet[WaitlistEntry]:
    return scope_to_organisation(WaitlistEntry.objects.all(), user)


def messages_for(user: Any) -> QuerySet[Message]:
    return scope_to_organisation(Message.objects.all(), user)


def message_templates_for(user: Any) -> QuerySet[MessageTemplate]:
    """Templates are shared wording, not records of anyone: every signed-in user may read them."""
    if not getattr(user, "is_authenticated", False):
        return MessageTemplate.objects.none()
    return MessageTemplate.objects.all()
