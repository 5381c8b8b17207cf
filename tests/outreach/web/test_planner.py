"""The session planner: week and month views, grouping, clashes, series and cancellations."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.models import StaffMember
from outreach.models import Booking, Message, OutreachSession, SessionSeries, StaffAssignment
from outreach.web import planning
from tests import factories

pytestmark = pytest.mark.django_db

# Tuesday 2 June 2026, 10:00-14:00 in London (BST).
TUE_10 = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def venue(organisation):
    return factories.VenueFactory(organisation=organisation, name="Cathedral Square")


@pytest.fixture
def bus(organisation):
    return factories.MobileUnitFactory(organisation=organisation, name="Health bus 1", capacity=2)


@pytest.fixture
def service():
    return factories.ServiceTypeFactory(name="Health check")


def _session(organisation, venue, *, starts_at=TUE_10, hours=4, **fields):
    return factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        **fields,
    )


def _series_post(venue, service, **overrides):
    data = {
        "name": "Cathedral Square bus stop",
        "venue": venue.pk,
        "services": [service.pk],
        "weekdays": ["0", "3"],
        "interval_weeks": "1",
        "start_date": "2026-06-01",
        "until_date": "2026-06-30",
        "occurrence_limit": "",
        "start_time": "10:00",
        "end_time": "14:00",
        "booking_mode": "mixed",
        "slot_minutes": "15",
        "lanes": "1",
        "walk_in_share_percent": "0",
        "audience": "everyone",
    }
    data.update(overrides)
    return data


# --- who may plan -----------------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(reverse("planner"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (StaffMember.Role.COORDINATOR, 200),
        (StaffMember.Role.ADMIN, 200),
        (StaffMember.Role.NURSE, 403),
        (StaffMember.Role.ANALYST, 403),
    ],
)
def test_only_coordinators_and_admins_plan(
    clock, organisation, make_staff, client_for, role, status
):
    client = client_for(make_staff(organisation, role))
    assert client.get(reverse("planner")).status_code == status
    assert client.get(reverse("planner-series-create")).status_code == status


def test_another_organisations_session_and_series_are_not_found(
    clock, coordinator_client, venue, service
):
    other = factories.OrganisationFactory()
    session = _session(other, factories.VenueFactory(organisation=other))
    series = factories.SessionSeriesFactory(organisation=other)
    assert coordinator_client.get(reverse("planner-session", args=[session.pk])).status_code == 404
    assert coordinator_client.get(reverse("planner-series", args=[series.pk])).status_code == 404
    cancel = reverse("planner-session-cancel", args=[session.pk])
    assert coordinator_client.get(cancel).status_code == 404
    assert coordinator_client.post(cancel, {"reason": "Flooded"}).status_code == 404
    session.refresh_from_db()
    assert session.status == OutreachSession.Status.PLANNED


def test_another_organisations_sessions_are_not_on_the_planner(
    clock, organisation, coordinator_client, venue
):
    mine = _session(organisation, venue, name="Our clinic")
    other = factories.OrganisationFactory()
    _session(other, factories.VenueFactory(organisation=other), name="Their clinic")
    response = coordinator_client.get(reverse("planner"), {"date": "2026-06-02"})
    assert mine.name in response.content.decode()
    assert "Their clinic" not in response.content.decode()


# --- the week and month views -----------------------------------------------------------------


def test_the_week_view_shows_each_session_in_its_bus_row_on_its_day(
    clock, organisation, coordinator_client, venue, bus, make_staff
):
    nurse = make_staff(organisation, StaffMember.Role.NURSE, user__first_name="Ada")
    session = _session(organisation, venue, mobile_unit=bus, name="Bus at the square")
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    factories.BookingFactory(session=session)
    response = coordinator_client.get(reverse("planner"), {"date": "2026-06-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Week of 1 June 2026" in html
    assert "Health bus 1" in html
    assert "Bus at the square" in html
    assert "10:00 to 14:00" in html
    assert "1 booked" in html
    row = next(r for r in response.context["rows"] if r.label == "Health bus 1")
    tuesday = next(c for c in row.cells if c["day"] == date(2026, 6, 2))
    assert [s.pk for s in tuesday["sessions"]] == [session.pk]


@pytest.mark.parametrize(
    ("group", "label"),
    [("unit", "No mobile unit"), ("venue", "Cathedral Square"), ("staff", "Ada")],
)
def test_the_switch_groups_by_unit_venue_or_staff(
    clock, organisation, coordinator_client, venue, make_staff, group, label
):
    nurse = make_staff(organisation, StaffMember.Role.NURSE, user__first_name="Ada")
    session = _session(organisation, venue)
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    response = coordinator_client.get(reverse("planner"), {"date": "2026-06-02", "group": group})
    labels = [row.label for row in response.context["rows"]]
    assert any(found.startswith(label) for found in labels), labels


def test_a_session_with_two_nurses_is_on_both_their_rows(organisation, venue, make_staff):
    session = _session(organisation, venue)
    for name in ("Ada", "Bea"):
        factories.StaffAssignmentFactory(
            session=session,
            staff=make_staff(organisation, user__first_name=name, user__last_name="Nurse"),
        )
    sessions = planning.decorate(list(OutreachSession.objects.prefetch_related("assignments")))
    rows = planning.group_rows(sessions, "staff")
    assert [row.label for row in rows] == ["Ada Nurse", "Bea Nurse"]


def test_the_month_view_covers_whole_weeks_around_the_month(clock, coordinator_client):
    response = coordinator_client.get(reverse("planner"), {"view": "month", "date": "2026-06-17"})
    period = response.context["period"]
    assert (period.first, period.last) == (date(2026, 6, 1), date(2026, 7, 5))
    assert "June 2026" in response.content.decode()
    assert period.previous == date(2026, 5, 1)
    assert period.next == date(2026, 7, 1)


def test_a_late_sunday_session_stays_on_sunday_in_london(
    clock, organisation, coordinator_client, venue
):
    # 23:30 London on Sunday 7 June is 22:30 UTC: still that week's Sunday.
    late = _session(
        organisation, venue, starts_at=datetime(2026, 6, 7, 22, 30, tzinfo=UTC), hours=1
    )
    response = coordinator_client.get(reverse("planner"), {"date": "2026-06-01"})
    assert late.pk in [s.pk for s in response.context["sessions"]]
    assert response.context["sessions"][0].local_day == date(2026, 6, 7)


def test_a_malformed_date_or_view_falls_back_to_this_week(clock, coordinator_client):
    response = coordinator_client.get(
        reverse("planner"), {"date": "not-a-date", "view": "year", "group": "moon"}
    )
    assert response.status_code == 200
    assert response.context["view"] == "week"
    assert response.context["group"] == "unit"
    assert response.context["period"].first == date(2026, 6, 1)


def test_htmx_gets_only_the_planner_body(clock, coordinator_client):
    response = coordinator_client.get(
        reverse("planner"), {"date": "2026-06-02"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="planner-title"' in html
    assert "<html" not in html
    assert "Go to date" not in html


def test_the_planner_costs_the_same_queries_for_one_session_or_many(
    clock, organisation, coordinator_client, venue, make_staff
):
    def week_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = coordinator_client.get(
                reverse("planner"), {"date": "2026-06-02", "group": "staff"}
            )
        assert response.status_code == 200
        return len(queries)

    first = _session(organisation, venue)
    factories.StaffAssignmentFactory(session=first, staff=make_staff(organisation))
    one = week_queries()
    for day in range(1, 6):
        session = _session(
            organisation,
            factories.VenueFactory(organisation=organisation),
            starts_at=TUE_10 + timedelta(days=day % 5),
            mobile_unit=factories.MobileUnitFactory(organisation=organisation),
        )
        factories.StaffAssignmentFactory(session=session, staff=make_staff(organisation))
        factories.BookingFactory(session=session)
        session.services.add(factories.ServiceTypeFactory())
    assert week_queries() == one


# --- clashes ----------------------------------------------------------------------------------


def _in_memory(pk, *, name, starts_at=TUE_10, hours=4, unit=None, staff=(), status="planned"):
    """A session as an edit in progress would have it: overlaps the database would refuse."""
    session = OutreachSession(
        pk=pk,
        name=name,
        mobile_unit=unit,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        status=status,
    )
    session._prefetched_objects_cache = {
        "assignments": [StaffAssignment(staff=member, is_live=True) for member in staff]
    }
    return session


def test_a_bus_in_two_overlapping_sessions_is_a_clash_on_both(bus):
    morning = _in_memory(1, name="Morning", unit=bus)
    overlap = _in_memory(2, name="Overlap", unit=bus, starts_at=TUE_10 + timedelta(hours=2))
    clashes = planning.find_clashes([morning, overlap])
    assert clashes == {
        1: ["Health bus 1 is also booked for 'Overlap' on Tue 02 Jun 12:00 to 16:00."],
        2: ["Health bus 1 is also booked for 'Morning' on Tue 02 Jun 10:00 to 14:00."],
    }


def test_a_nurse_in_two_overlapping_sessions_is_a_clash(organisation, make_staff):
    nurse = make_staff(organisation, user__first_name="Ada", user__last_name="Lovelace")
    food_bank = _in_memory(1, name="Food bank", staff=[nurse])
    hostel = _in_memory(2, name="Hostel", staff=[nurse], starts_at=TUE_10 + timedelta(hours=3))
    clashes = planning.find_clashes([food_bank, hostel])
    assert clashes[1] == ["Ada Lovelace is also working 'Hostel' on Tue 02 Jun 13:00 to 17:00."]
    assert clashes[2] == ["Ada Lovelace is also working 'Food bank' on Tue 02 Jun 10:00 to 14:00."]


def test_back_to_back_and_cancelled_sessions_do_not_clash(bus):
    sessions = [
        _in_memory(1, name="Morning", unit=bus),
        _in_memory(2, name="Afternoon", unit=bus, starts_at=TUE_10 + timedelta(hours=4)),
        _in_memory(3, name="Called off", unit=bus, status=OutreachSession.Status.CANCELLED),
    ]
    assert planning.find_clashes(sessions) == {}


def test_the_planner_warns_of_clashes_above_the_grid_and_on_the_block(
    clock, organisation, coordinator_client, venue, monkeypatch
):
    session = _session(organisation, venue, name="Food bank")
    sentence = "Ada Lovelace is also working 'Hostel' on Tue 02 Jun 13:00 to 17:00."
    # The database refuses real overlaps, so the sweep's answer is given here to check the page.
    monkeypatch.setattr(planning, "find_clashes", lambda sessions: {session.pk: [sentence]})
    html = coordinator_client.get(reverse("planner"), {"date": "2026-06-02"}).content.decode()
    assert 'id="planner-clashes"' in html
    assert "1 session clashes" in html
    assert "coord-block--clash" in html
    assert f"<strong>Clash:</strong> {sentence}".replace("'", "&#x27;") in html


def test_without_clashes_there_is_no_warning(clock, organisation, coordinator_client, venue):
    _session(organisation, venue)
    html = coordinator_client.get(reverse("planner"), {"date": "2026-06-02"}).content.decode()
    assert 'id="planner-clashes"' not in html


# --- creating a series ------------------------------------------------------------------------


def test_a_coordinator_plans_a_series_and_sees_its_sessions(
    clock, organisation, coordinator_client, venue, service
):
    response = coordinator_client.post(
        reverse("planner-series-create"), _series_post(venue, service)
    )
    series = SessionSeries.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("planner-series", args=[series.pk])
    assert series.weekdays == [0, 3]
    # Mondays and Thursdays from 1 June to 30 June.
    assert series.sessions.count() == 9
    page = coordinator_client.get(response["Location"])
    html = page.content.decode()
    assert "Sessions (9)" in html
    assert "Every week on Monday, Thursday, 10:00 to 14:00" in html
    assert "Series planned: 9 sessions." in html


def test_a_series_for_a_number_of_sessions_every_other_week(
    clock, coordinator_client, venue, service
):
    data = _series_post(
        venue, service, weekdays=["1"], interval_weeks="2", until_date="", occurrence_limit="3"
    )
    assert coordinator_client.post(reverse("planner-series-create"), data).status_code == 302
    days = list(SessionSeries.objects.get().sessions.values_list("occurrence_date", flat=True))
    assert days == [date(2026, 6, 2), date(2026, 6, 16), date(2026, 6, 30)]


def test_bad_input_is_explained_next_to_each_field_and_kept(
    clock, coordinator_client, venue, service
):
    data = _series_post(venue, service, weekdays=[], end_time="09:00", name="Keep this name")
    response = coordinator_client.post(reverse("planner-series-create"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Choose at least one day of the week." in html
    assert "The session must end after it starts." in html
    assert 'value="Keep this name"' in html
    assert "<title>Error: " in html
    assert not SessionSeries.objects.exists()


def test_an_end_date_and_a_count_together_are_refused_by_the_service(
    clock, coordinator_client, venue, service
):
    data = _series_post(venue, service, occurrence_limit="4")
    response = coordinator_client.post(reverse("planner-series-create"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["occurrence_limit"] == [
        "Give an end date or a number of sessions, not both."
    ]


def test_a_bus_clash_is_a_sentence_next_to_the_mobile_unit(
    clock, organisation, coordinator_client, venue, service, bus
):
    _session(
        organisation,
        venue,
        mobile_unit=bus,
        name="Already out",
        starts_at=datetime(2026, 6, 4, 9, 0, tzinfo=UTC),
    )
    data = _series_post(venue, service, mobile_unit=bus.pk)
    response = coordinator_client.post(reverse("planner-series-create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors["mobile_unit"]
    assert errors == [
        "The mobile unit is already booked for 'Already out' on Thu 04 Jun 2026 10:00-14:00."
    ]
    assert 'value="Cathedral Square bus stop"' in response.content.decode()
    assert not SessionSeries.objects.exists()


def test_a_staff_clash_is_a_sentence_next_to_the_staff(
    clock, organisation, coordinator_client, venue, service, make_staff
):
    nurse = make_staff(organisation, user__first_name="Ada", user__last_name="Lovelace")
    busy = _session(
        organisation, venue, name="Hostel", starts_at=datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    )
    factories.StaffAssignmentFactory(session=busy, staff=nurse)
    data = _series_post(venue, service, staff=[nurse.pk])
    response = coordinator_client.post(reverse("planner-series-create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["staff"] == [
        "Ada Lovelace is already working 'Hostel' on Mon 08 Jun 2026 10:00-14:00."
    ]


def test_another_organisations_venue_cannot_be_chosen(clock, coordinator_client, service):
    other_venue = factories.VenueFactory(organisation=factories.OrganisationFactory())
    response = coordinator_client.post(
        reverse("planner-series-create"), _series_post(other_venue, service)
    )
    assert response.status_code == 400
    assert "venue" in response.context["form"].errors


# --- cancelling one occurrence ----------------------------------------------------------------


@pytest.fixture
def booked_session(clock, organisation, venue, service):
    session = _session(organisation, venue, name="Bus at the square")
    reachable = factories.PatientFactory(organisation=organisation, preferred_name="Sam")
    factories.ContactPointFactory(patient=reachable)
    unreachable = factories.PatientFactory(organisation=organisation, preferred_name="Jo")
    for lane, patient in enumerate((reachable, unreachable), start=1):
        factories.BookingFactory(session=session, patient=patient, service_type=service, lane=lane)
    return session


def test_the_cancel_page_says_how_many_people_will_be_told(booked_session, coordinator_client):
    response = coordinator_client.get(reverse("planner-session-cancel", args=[booked_session.pk]))
    html = response.content.decode()
    assert response.context["counts"] == {"booked": 2, "reachable": 1}
    assert "<strong>2 booked people</strong> will be sent a message" in html
    assert "1 of them can be reached" in html
    assert "Cancel the session and tell 2 people" in html


def test_cancelling_tells_booked_patients_through_the_outbox(booked_session, coordinator_client):
    url = reverse("planner-session-cancel", args=[booked_session.pk])
    response = coordinator_client.post(url, {"reason": "The bus has broken down"})
    assert response.status_code == 302
    booked_session.refresh_from_db()
    assert booked_session.status == OutreachSession.Status.CANCELLED
    assert booked_session.cancellation_reason == "The bus has broken down"
    assert not booked_session.bookings.filter(status=Booking.Status.BOOKED).exists()
    told = Message.objects.filter(purpose="session_cancelled")
    assert told.count() == 2
    page = coordinator_client.get(response["Location"], follow=True)
    assert "2 booked people are being told." in page.content.decode()


def test_a_cancellation_needs_a_reason_and_keeps_the_page(booked_session, coordinator_client):
    url = reverse("planner-session-cancel", args=[booked_session.pk])
    response = coordinator_client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "Say why the session is cancelled." in response.content.decode()
    booked_session.refresh_from_db()
    assert booked_session.status == OutreachSession.Status.PLANNED


def test_a_cancelled_session_cannot_be_cancelled_again(booked_session, coordinator_client):
    url = reverse("planner-session-cancel", args=[booked_session.pk])
    coordinator_client.post(url, {"reason": "Flooded"})
    response = coordinator_client.post(url, {"reason": "Flooded again"})
    assert response.status_code == 409
    assert "cannot move from" in response.content.decode()


def test_a_nurse_cannot_cancel_a_session(booked_session, organisation, make_staff, client_for):
    client = client_for(make_staff(organisation, StaffMember.Role.NURSE))
    url = reverse("planner-session-cancel", args=[booked_session.pk])
    assert client.post(url, {"reason": "No"}).status_code == 403
    booked_session.refresh_from_db()
    assert booked_session.status == OutreachSession.Status.PLANNED


def test_the_session_page_shows_its_details_and_the_cancel_button(
    booked_session, coordinator_client
):
    html = coordinator_client.get(
        reverse("planner-session", args=[booked_session.pk])
    ).content.decode()
    assert "Bus at the square" in html
    assert "Cancel this session" in html


def test_an_empty_form_says_what_each_field_needs(clock, coordinator_client):
    response = coordinator_client.post(reverse("planner-series-create"), {})
    errors = response.context["form"].errors
    assert errors["name"] == ["Enter a name for the series."]
    assert errors["venue"] == ["Choose the venue."]
    assert errors["services"] == ["Choose at least one service."]
    assert errors["start_time"] == ["Enter the time the sessions start."]


def test_the_rota_offers_the_people_who_see_patients(
    clock, organisation, coordinator, coordinator_client, make_staff
):
    nurse = make_staff(organisation, StaffMember.Role.NURSE)
    make_staff(factories.OrganisationFactory(), StaffMember.Role.NURSE)
    choices = list(
        coordinator_client.get(reverse("planner-series-create"))
        .context["form"]
        .fields["staff"]
        .queryset
    )
    assert choices == [nurse]
