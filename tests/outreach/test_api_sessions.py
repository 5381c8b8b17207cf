"""The sessions and series API: planning, clashes, changes by scope, status actions and the day."""

from datetime import UTC, date, datetime, timedelta

import pytest

from clinics.models import StaffMember
from outreach.models import Booking, BookingMode, OutreachSession, SessionSeries
from tests import factories
from tests.outreach.conftest import NOW, TOMORROW_10, assert_error, iso, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

SESSIONS = "/api/v1/sessions/"
SERIES = "/api/v1/series/"


def _url(session: OutreachSession, action: str = "") -> str:
    return f"{SESSIONS}{session.pk}/{action + '/' if action else ''}"


def _patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def _new_session(where, what, **overrides):
    body = {
        "name": "Food bank morning",
        "venue": where.pk,
        "services": [what.pk],
        "starts_at": iso(TOMORROW_10),
        "ends_at": iso(TOMORROW_10 + timedelta(hours=4)),
        "booking_mode": BookingMode.APPOINTMENTS,
    }
    body.update(overrides)
    return body


# --- Planning a one-off session -------------------------------------------------------------


def test_a_coordinator_plans_a_session(coordinator_client, coordinator, venue, service):
    response = post_json(coordinator_client, SESSIONS, _new_session(venue, service, lanes=2))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == OutreachSession.Status.PLANNED
    assert body["organisation"] == coordinator.organisation_id
    assert body["services"] == [service.pk]
    assert body["starts_at"] == "2026-06-02T10:00:00+01:00"
    session = OutreachSession.objects.get(pk=body["id"])
    assert session.history.get().history_user == coordinator.user


def test_a_nurse_cannot_plan_a_session(nurse_client, venue, service):
    response = post_json(nurse_client, SESSIONS, _new_session(venue, service))

    assert_error(response, 403)
    assert not OutreachSession.objects.exists()


def test_a_session_that_ends_before_it_starts_is_refused(coordinator_client, venue, service):
    body = _new_session(venue, service, ends_at=iso(TOMORROW_10 - timedelta(hours=1)))

    error = assert_error(post_json(coordinator_client, SESSIONS, body), 400, "invalid")

    assert "ends_at" in error["fields"]


def test_an_unknown_venue_is_a_field_error(coordinator_client, venue, service):
    body = _new_session(venue, service, venue=venue.pk + 1000)

    error = assert_error(post_json(coordinator_client, SESSIONS, body), 400, "invalid")

    assert "venue" in error["fields"]


def test_a_bus_already_out_then_is_a_unit_clash_naming_the_session(
    coordinator_client, organisation, venue, service
):
    bus = factories.MobileUnitFactory(organisation=organisation)
    already_out = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        name="Hostel afternoon",
        mobile_unit=bus,
        starts_at=TOMORROW_10,
        ends_at=TOMORROW_10 + timedelta(hours=4),
        lanes=1,
    )
    body = _new_session(
        venue,
        service,
        mobile_unit=bus.pk,
        starts_at=iso(TOMORROW_10 + timedelta(hours=3)),
        ends_at=iso(TOMORROW_10 + timedelta(hours=6)),
    )

    error = assert_error(post_json(coordinator_client, SESSIONS, body), 409, "unit_clash")

    assert "Hostel afternoon" in error["detail"]
    assert error["clashing_session"] == already_out.pk
    assert OutreachSession.objects.count() == 1


def test_a_nurse_already_working_then_is_a_staff_clash(
    coordinator_client, organisation, venue, service, nurse
):
    elsewhere = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, name="Day centre", starts_at=TOMORROW_10
    )
    factories.StaffAssignmentFactory(session=elsewhere, staff=nurse)
    body = _new_session(venue, service, staff=[nurse.pk])

    error = assert_error(post_json(coordinator_client, SESSIONS, body), 409, "staff_clash")

    assert "Day centre" in error["detail"]
    assert error["clashing_session"] == elsewhere.pk
    assert OutreachSession.objects.count() == 1


# --- Reading sessions -------------------------------------------------------------------------


def test_the_list_filters_by_start_and_venue(nurse_client, organisation, venue):
    other_venue = factories.VenueFactory(organisation=organisation)
    tuesday = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=TOMORROW_10
    )
    friday = factories.OutreachSessionFactory(
        organisation=organisation, venue=other_venue, starts_at=TOMORROW_10 + timedelta(days=3)
    )

    later = nurse_client.get(SESSIONS, {"starts_at__gte": "2026-06-04T00:00:00Z"})
    at_venue = nurse_client.get(SESSIONS, {"venue": venue.pk})

    assert [s["id"] for s in later.json()["results"]] == [friday.pk]
    assert [s["id"] for s in at_venue.json()["results"]] == [tuesday.pk]


def test_another_organisations_session_is_not_there(nurse_client, session):
    theirs = factories.OutreachSessionFactory(starts_at=TOMORROW_10)

    assert_error(nurse_client.get(_url(theirs)), 404, "not_found")
    listed = [s["id"] for s in nurse_client.get(SESSIONS).json()["results"]]
    assert listed == [session.pk]


# --- Changing one session ---------------------------------------------------------------------


def test_patching_this_session_moves_its_times(coordinator_client, session):
    later = TOMORROW_10 + timedelta(hours=1)

    response = _patch(
        coordinator_client,
        _url(session),
        {"scope": "this", "starts_at": iso(later), "ends_at": iso(later + timedelta(hours=4))},
    )

    assert response.status_code == 200, response.content
    session.refresh_from_db()
    assert session.starts_at == later
    assert session.ends_at == later + timedelta(hours=4)


def test_a_move_that_leaves_bookings_outside_the_hours_is_refused(
    coordinator_client, session, service
):
    factories.BookingFactory(
        session=session,
        service_type=service,
        starts_at=TOMORROW_10 + timedelta(hours=3, minutes=45),
    )

    error = assert_error(
        _patch(
            coordinator_client,
            _url(session),
            {"ends_at": iso(TOMORROW_10 + timedelta(hours=3))},
        ),
        409,
        "bookings_outside_hours",
    )

    assert "1 booking" in error["detail"]
    session.refresh_from_db()
    assert session.ends_at == TOMORROW_10 + timedelta(hours=4)


def test_a_nurse_cannot_change_a_session(nurse_client, session):
    assert_error(_patch(nurse_client, _url(session), {"name": "Renamed"}), 403)


# --- Status actions ---------------------------------------------------------------------------


def test_a_session_is_confirmed_started_and_completed(coordinator_client, session):
    for action, status in [
        ("confirm", OutreachSession.Status.CONFIRMED),
        ("start", OutreachSession.Status.IN_PROGRESS),
        ("complete", OutreachSession.Status.COMPLETED),
    ]:
        response = post_json(coordinator_client, _url(session, action))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status


def test_an_illegal_transition_lists_the_allowed_ones(coordinator_client, session):
    error = assert_error(
        post_json(coordinator_client, _url(session, "complete")), 409, "illegal_transition"
    )

    assert error["allowed"] == ["cancelled", "confirmed", "in_progress"]
    session.refresh_from_db()
    assert session.status == OutreachSession.Status.PLANNED


def test_cancelling_needs_a_reason(coordinator_client, session):
    error = assert_error(post_json(coordinator_client, _url(session, "cancel")), 400, "invalid")

    assert "reason" in error["fields"]
    session.refresh_from_db()
    assert session.status == OutreachSession.Status.PLANNED


def test_cancelling_a_session_cancels_its_booked_bookings_by_the_service(
    coordinator_client, session, service
):
    booked = factories.BookingFactory(session=session, service_type=service)
    not_attended = factories.BookingFactory(
        session=session,
        service_type=service,
        lane=2,
        status=Booking.Status.NOSHOW,
    )

    response = post_json(coordinator_client, _url(session, "cancel"), {"reason": "Bus broke down"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == OutreachSession.Status.CANCELLED
    assert response.json()["cancellation_reason"] == "Bus broke down"
    booked.refresh_from_db()
    not_attended.refresh_from_db()
    assert booked.status == Booking.Status.CANCELLED
    assert booked.cancelled_by == Booking.CancelledBy.SERVICE
    assert not_attended.status == Booking.Status.NOSHOW


def test_a_cancelled_session_frees_its_staff_for_another_session(
    coordinator_client, session, nurse, venue, service
):
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    post_json(coordinator_client, _url(session, "cancel"), {"reason": "Venue closed"})

    body = _new_session(venue, service, staff=[nurse.pk])
    response = post_json(coordinator_client, SESSIONS, body)

    assert response.status_code == 201, response.content


def test_a_nurse_cannot_cancel_a_session(nurse_client, session):
    assert_error(post_json(nurse_client, _url(session, "cancel"), {"reason": "No"}), 403)


def test_the_history_says_who_changed_the_session_and_why(
    coordinator_client, coordinator, venue, service
):
    coordinator.user.first_name, coordinator.user.last_name = "Ada", "Okafor"
    coordinator.user.save()
    created = post_json(coordinator_client, SESSIONS, _new_session(venue, service)).json()
    session = OutreachSession.objects.get(pk=created["id"])
    post_json(coordinator_client, _url(session, "confirm"))

    history = coordinator_client.get(_url(session, "history")).json()

    assert [(e["type"], e["by"], e["reason"]) for e in history] == [
        ("created", "Ada Okafor", "Planned"),
        ("changed", "Ada Okafor", "Confirmed"),
    ]
    assert {"field": "status", "old": "planned", "new": "confirmed"} in history[1]["changes"]


# --- The day view -----------------------------------------------------------------------------


def _fill(session, service, count):
    """`count` bookings: mostly booked, some seen with an outcome, some walk-ins waiting."""
    for index in range(count):
        kind = index % 4
        if kind == 3:
            factories.BookingFactory(
                session=session,
                service_type=service,
                lane=None,
                starts_at=NOW,
                status=Booking.Status.ARRIVED,
                source=Booking.Source.WALK_IN,
                arrived_at=NOW - timedelta(minutes=index),
            )
            continue
        booking = factories.BookingFactory(
            session=session,
            service_type=service,
            lane=index % session.lanes + 1,
            starts_at=session.starts_at + timedelta(minutes=15 * (index // session.lanes)),
        )
        if kind == 2:
            Booking.objects.filter(pk=booking.pk).update(
                status=Booking.Status.FULFILLED, arrived_at=NOW
            )
            factories.VisitOutcomeFactory(booking=booking)


@pytest.fixture
def today_session(organisation, venue, service, nurse):
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + timedelta(hours=5),
        lanes=5,
    )
    session.services.add(service)
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    return session


def test_the_day_lists_bookings_the_walk_in_queue_and_counts(nurse_client, today_session, service):
    _fill(today_session, service, 8)

    day = nurse_client.get(_url(today_session, "day")).json()

    assert day["session"]["id"] == today_session.pk
    assert len(day["bookings"]) == 8
    assert day["counts"]["booked"] == 4
    assert day["counts"]["fulfilled"] == 2
    assert day["counts"]["arrived"] == 2
    assert day["counts"]["walk_ins_waiting"] == 2
    # The one who arrived first is first in the queue.
    queue = day["walk_in_queue"]
    assert [b["arrived_at"] for b in queue] == sorted(b["arrived_at"] for b in queue)
    assert all(b["source"] == Booking.Source.WALK_IN for b in queue)
    seen = [b for b in day["bookings"] if b["status"] == Booking.Status.FULFILLED]
    assert seen[0]["outcome"]["outcome"] == "completed"


@pytest.mark.parametrize("count", [3, 40])
def test_the_day_costs_the_same_queries_for_few_or_many_bookings(
    nurse_client, today_session, service, count, django_assert_max_num_queries
):
    _fill(today_session, service, count)

    # The day's one access log entry, naming everyone shown, is one of them on PostgreSQL
    # (two on SQLite): 9 and 10 whatever the number of bookings.
    with django_assert_max_num_queries(10):
        response = nurse_client.get(_url(today_session, "day"))

    assert response.status_code == 200
    assert len(response.json()["bookings"]) == count


def test_an_analyst_does_not_see_who_is_booked_on_the_day(
    today_session, service, make_staff, client_for, organisation
):
    """Analysts work with aggregates: the day screen names patients, so it is not theirs."""
    _fill(today_session, service, 4)
    analyst = client_for(make_staff(organisation, StaffMember.Role.ANALYST))

    response = analyst.get(_url(today_session, "day"))

    assert response.status_code == 403 or (
        response.json()["bookings"] == [] and response.json()["walk_in_queue"] == []
    ), response.json()


# --- Series -----------------------------------------------------------------------------------


def _new_series(where, what, **overrides):
    body = {
        "name": "Monday and Thursday bus",
        "venue": where.pk,
        "services": [what.pk],
        "weekdays": [0, 3],
        "start_date": "2026-06-01",
        "start_time": "10:00",
        "end_time": "14:00",
        "booking_mode": BookingMode.MIXED,
    }
    body.update(overrides)
    return body


@pytest.fixture
def short_horizon(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2


@pytest.fixture
def weekly(coordinator_client, venue, service, short_horizon):
    """A Monday series, 10:00-14:00 London: sessions on 1, 8 and 15 June."""
    response = post_json(coordinator_client, SERIES, _new_series(venue, service, weekdays=[0]))
    assert response.status_code == 201, response.content
    series = SessionSeries.objects.get(pk=response.json()["id"])
    return {s.occurrence_date: s for s in series.sessions.all()}


def _starts_utc(session):
    session.refresh_from_db()
    return session.starts_at.astimezone(UTC)


def test_a_series_creates_its_sessions_up_to_the_horizon(
    coordinator_client, venue, service, short_horizon
):
    response = post_json(coordinator_client, SERIES, _new_series(venue, service))

    assert response.status_code == 201, response.content
    sessions = OutreachSession.objects.filter(series_id=response.json()["id"])
    assert [s.occurrence_date for s in sessions] == [
        date(2026, 6, 1),
        date(2026, 6, 4),
        date(2026, 6, 8),
        date(2026, 6, 11),
        date(2026, 6, 15),
    ]
    # 10:00 in London is 09:00 UTC in summer.
    assert {s.starts_at.astimezone(UTC).time().hour for s in sessions} == {9}
    assert all(list(s.services.all()) == [service] for s in sessions)


def test_a_nurse_cannot_plan_a_series(nurse_client, venue, service):
    assert_error(post_json(nurse_client, SERIES, _new_series(venue, service)), 403)


@pytest.mark.parametrize("weekdays", [[], [7], [1, 1], ["monday"]])
def test_invalid_weekdays_are_a_field_error(coordinator_client, venue, service, weekdays):
    body = _new_series(venue, service, weekdays=weekdays)

    error = assert_error(post_json(coordinator_client, SERIES, body), 400, "invalid")

    assert "weekdays" in error["fields"]
    assert not SessionSeries.objects.exists()


def test_an_end_date_and_a_number_of_sessions_together_are_refused(
    coordinator_client, venue, service
):
    body = _new_series(venue, service, until_date="2026-07-01", occurrence_limit=4)

    error = assert_error(post_json(coordinator_client, SERIES, body), 400, "invalid")

    assert "occurrence_limit" in error["fields"]


def test_a_series_clashing_with_the_bus_creates_nothing(
    coordinator_client, organisation, venue, service, short_horizon
):
    bus = factories.MobileUnitFactory(organisation=organisation)
    factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        mobile_unit=bus,
        lanes=1,
        starts_at=datetime(2026, 6, 8, 12, 0, tzinfo=UTC),
    )
    body = _new_series(venue, service, mobile_unit=bus.pk)

    assert_error(post_json(coordinator_client, SERIES, body), 409, "unit_clash")

    assert not SessionSeries.objects.exists()
    assert OutreachSession.objects.count() == 1


def test_scope_all_moves_every_future_occurrence_not_edited_on_its_own(
    coordinator_client, weekly, clock
):
    first, second, third = (
        weekly[date(2026, 6, 1)],
        weekly[date(2026, 6, 8)],
        weekly[date(2026, 6, 15)],
    )
    detached = _patch(
        coordinator_client,
        _url(second),
        {
            "scope": "this",
            "starts_at": "2026-06-08T10:00:00Z",
            "ends_at": "2026-06-08T14:00:00Z",
        },
    )
    assert detached.status_code == 200, detached.content
    clock.move_to(datetime(2026, 6, 2, 8, 0, tzinfo=UTC))

    response = _patch(coordinator_client, _url(third), {"scope": "all", "start_time": "09:00"})

    assert response.status_code == 200, response.content
    assert _starts_utc(third) == datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    assert _starts_utc(second) == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)  # detached
    assert _starts_utc(first) == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # in the past
    assert SessionSeries.objects.get().start_time.hour == 9


def test_scope_following_splits_the_series(coordinator_client, weekly):
    first, second, third = (
        weekly[date(2026, 6, 1)],
        weekly[date(2026, 6, 8)],
        weekly[date(2026, 6, 15)],
    )
    original = first.series

    response = _patch(
        coordinator_client, _url(second), {"scope": "following", "start_time": "11:00"}
    )

    assert response.status_code == 200, response.content
    assert _starts_utc(first) == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert _starts_utc(second) == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)
    assert _starts_utc(third) == datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    original.refresh_from_db()
    assert original.until_date == date(2026, 6, 7)
    assert first.series_id == original.pk
    assert second.series_id == third.series_id != original.pk
    assert second.series.start_time.hour == 11


def test_scope_this_detaches_the_occurrence(coordinator_client, weekly):
    first, second = weekly[date(2026, 6, 1)], weekly[date(2026, 6, 8)]

    response = _patch(
        coordinator_client, _url(second), {"scope": "this", "name": "Bank holiday special"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["detached"] is True
    assert response.json()["name"] == "Bank holiday special"
    first.refresh_from_db()
    assert first.detached is False
    assert first.name == "Monday and Thursday bus"


def test_series_times_are_sent_with_scope_not_this(coordinator_client, weekly):
    second = weekly[date(2026, 6, 8)]

    error = assert_error(
        _patch(coordinator_client, _url(second), {"scope": "this", "start_time": "11:00"}),
        400,
        "invalid",
    )

    assert "start_time" in error["fields"]


def test_a_series_start_after_its_end_names_the_field(coordinator_client, weekly):
    second = weekly[date(2026, 6, 8)]

    error = assert_error(
        _patch(coordinator_client, _url(second), {"scope": "all", "start_time": "15:00"}),
        400,
        "invalid",
    )

    assert {"start_time", "end_time"} & set(error["fields"]), error
    assert _starts_utc(second) == datetime(2026, 6, 8, 9, 0, tzinfo=UTC)


def test_new_times_for_a_one_off_session_keep_its_london_date(
    coordinator_client, organisation, venue
):
    # 00:30 in London on Wednesday 3 June is 23:30 UTC on Tuesday 2 June.
    late = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=datetime(2026, 6, 2, 23, 30, tzinfo=UTC),
        ends_at=datetime(2026, 6, 3, 2, 0, tzinfo=UTC),
    )

    response = _patch(
        coordinator_client,
        _url(late),
        {"scope": "all", "start_time": "00:45", "end_time": "03:00"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["starts_at"] == "2026-06-03T00:45:00+01:00"
    assert response.json()["ends_at"] == "2026-06-03T03:00:00+01:00"


def test_a_series_whose_nurse_is_busy_creates_nothing(
    coordinator_client, organisation, venue, service, nurse, short_horizon
):
    elsewhere = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    )
    factories.StaffAssignmentFactory(session=elsewhere, staff=nurse)

    response = post_json(coordinator_client, SERIES, _new_series(venue, service, staff=[nurse.pk]))

    assert assert_error(response, 409, "staff_clash")["clashing_session"] == elsewhere.pk
    assert not SessionSeries.objects.exists()
    assert OutreachSession.objects.count() == 1


def test_more_lanes_than_the_bus_has_rooms_is_a_field_error(
    coordinator_client, organisation, venue, service
):
    bus = factories.MobileUnitFactory(organisation=organisation, capacity=1)
    body = _new_session(venue, service, mobile_unit=bus.pk, lanes=3)

    error = assert_error(post_json(coordinator_client, SESSIONS, body), 400, "invalid")

    assert "lanes" in error["fields"]
