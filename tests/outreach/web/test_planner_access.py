"""The planner names nobody, so logs nothing, and counts only the bookings the user may see."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from clinics.models import StaffMember
from tests import factories
from tests.access_support import web_entries

pytestmark = pytest.mark.django_db

# Tuesday 2 June 2026, 10:00-14:00 in London (BST).
TUE_10 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(clock, organisation):
    """A series session with an ordinary booking and a cervical screening booking."""
    series = factories.SessionSeriesFactory(organisation=organisation)
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        series=series,
        starts_at=TUE_10,
        ends_at=TUE_10 + timedelta(hours=4),
    )
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    for lane, service in enumerate((factories.ServiceTypeFactory(), screening), start=1):
        factories.BookingFactory(
            session=session,
            service_type=service,
            patient__organisation=organisation,
            lane=lane,
        )
    return session


def _booked_counts(client, session):
    week = client.get(reverse("planner"), {"date": "2026-06-02"})
    series = client.get(reverse("planner-series", args=[session.series_id]))
    detail = client.get(reverse("planner-session", args=[session.pk]))
    cancel = client.get(reverse("planner-session-cancel", args=[session.pk]))
    return [
        next(s.booked_count for s in week.context["sessions"] if s.pk == session.pk),
        next(s.booked_count for s in series.context["sessions"] if s.pk == session.pk),
        detail.context["session"].booked_count,
        cancel.context["counts"]["booked"],
    ]


def test_the_planner_pages_name_nobody_and_log_nothing(coordinator_client, session):
    assert _booked_counts(coordinator_client, session) == [2, 2, 2, 2]
    assert web_entries() == []


def test_a_planner_without_the_sensitive_permission_does_not_count_sensitive_bookings(
    organisation, make_staff, client_for, session
):
    # A nurse who also plans sessions, without the sensitive-services permission.
    planner = make_staff(organisation, StaffMember.Role.NURSE)
    planner.user.user_permissions.add(
        Permission.objects.get(codename="change_outreachsession"),
        Permission.objects.get(codename="add_sessionseries"),
    )

    assert _booked_counts(client_for(planner), session) == [1, 1, 1, 1]
