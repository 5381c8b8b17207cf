"""Querysets of sessions, bookings and messages scoped to what a user may see.

Person-level rows widen to a partner organisation's under a CARE data-sharing agreement and
hide sensitive services from staff without the permission (clinics.permissions).
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from clinics.governance import SharingRecords
from clinics.permissions import hide_sensitive, scope_to_organisation
from outreach.models import (
    Booking,
    InboundMessage,
    Message,
    MessageTemplate,
    OutreachSession,
    SessionSeries,
    VisitOutcome,
    WaitlistEntry,
)

CARE = SharingRecords.CARE


def series_for(user: Any) -> QuerySet[SessionSeries]:
    return scope_to_organisation(SessionSeries.objects.all(), user, person_level=False)


def sessions_for(user: Any) -> QuerySet[OutreachSession]:
    return scope_to_organisation(OutreachSession.objects.all(), user, person_level=False)


def get_session_for(user: Any, pk: Any) -> OutreachSession:
    return get_object_or_404(sessions_for(user), pk=pk)


def bookings_for(user: Any) -> QuerySet[Booking]:
    bookings = scope_to_organisation(
        Booking.objects.all(), user, field="session__organisation", shared=CARE
    )
    return hide_sensitive(bookings, user, "service_type__sensitive")


def get_booking_for(user: Any, pk: Any) -> Booking:
    return get_object_or_404(bookings_for(user), pk=pk)


def outcomes_for(user: Any) -> QuerySet[VisitOutcome]:
    outcomes = scope_to_organisation(
        VisitOutcome.objects.all(), user, field="booking__session__organisation", shared=CARE
    )
    return hide_sensitive(outcomes, user, "booking__service_type__sensitive")


def waitlist_for(user: Any) -> QuerySet[WaitlistEntry]:
    entries = scope_to_organisation(WaitlistEntry.objects.all(), user, shared=CARE)
    return hide_sensitive(entries, user, "service_type__sensitive")


def messages_for(user: Any) -> QuerySet[Message]:
    # A discreet message is one about a sensitive service, even when no booking is linked.
    messages = scope_to_organisation(Message.objects.all(), user, shared=CARE)
    return hide_sensitive(messages, user, "discreet", "booking__service_type__sensitive")


def replies_for(user: Any) -> QuerySet[InboundMessage]:
    replies = scope_to_organisation(InboundMessage.objects.all(), user, shared=CARE)
    return hide_sensitive(replies, user, "booking__service_type__sensitive")


def message_templates_for(user: Any) -> QuerySet[MessageTemplate]:
    """Templates are shared wording, not records of anyone: every signed-in user may read them."""
    if not getattr(user, "is_authenticated", False):
        return MessageTemplate.objects.none()
    return MessageTemplate.objects.all()
