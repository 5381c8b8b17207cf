"""Free slots: one session's, and the search across sessions."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.models import StaffMember
from outreach.api.serializers import SlotSerializer, slots_data
from outreach.availability import Slot
from outreach.models import BookingMode, OutreachSession
from tests import factories
from tests.outreach.conftest import NOW, TOMORROW_10, assert_error, iso

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

SEARCH = "/api/v1/slots/"


def _slots(client, session, service=None):
    params = {} if service is None else {"service": service.pk}
    return client.get(f"/api/v1/sessions/{session.pk}/slots/", params)


def _starts(slots) -> list[str]:
    return [slot["starts_at"] for slot in slots]


def _book_next(client, session, patient, service):
    return client.post(
        "/api/v1/bookings/",
        {"patient": patient.pk, "session": session.pk, "service": service.pk},
        content_type="application/json",
    )


def _session(organisation, venue, service, **fields) -> OutreachSession:
    session = factories.OutreachSessionFactory(organisation=organisation, venue=venue, **fields)
    session.services.add(service)
    return session


# --- One session's slots ----------------------------------------------------------------------


def test_a_sessions_slots_cover_its_hours(nurse_client, session, service):
    slots = _slots(nurse_client, session, service).json()

    assert len(slots) == 16  # four hours of 15-minute slots
    assert slots[0] == {
        "session": session.pk,
        "starts_at": "2026-06-02T10:00:00+01:00",
        "ends_at": "2026-06-02T10:15:00+01:00",
        "lane": 1,
        "lanes_free": 2,
    }
    assert slots[-1]["starts_at"] == "2026-06-02T13:45:00+01:00"


def test_the_service_is_required(nurse_client, session):
    error = assert_error(_slots(nurse_client, session), 400, "invalid")

    assert "service" in error["fields"]


def test_a_service_not_offered_has_no_slots(nurse_client, session):
    dental = factories.ServiceTypeFactory(name="Dental check")

    response = _slots(nurse_client, session, dental)

    assert response.status_code == 200
    assert response.json() == []


def test_a_service_needing_competency_has_slots_only_with_competent_staff_on_the_rota(
    nurse_client, coordinator_client, session, organisation, make_staff
):
    dbs = factories.ServiceTypeFactory(name="Dry blood spot test", requires_competency=True)
    session.services.add(dbs)
    untrained = make_staff(organisation)
    trained = make_staff(organisation)
    trained.competencies.add(dbs)
    staff_url = f"/api/v1/sessions/{session.pk}/staff/"
    coordinator_client.post(staff_url, {"staff": untrained.pk}, content_type="application/json")

    before = _slots(nurse_client, session, dbs).json()
    added = coordinator_client.post(
        staff_url, {"staff": trained.pk}, content_type="application/json"
    )
    after = _slots(nurse_client, session, dbs).json()

    assert before == []
    assert added.status_code == 200, added.content
    assert len(after) == 16
    # Two lanes but one competent nurse: only one lane can deliver the service.
    assert {(slot["lane"], slot["lanes_free"]) for slot in after} == {(1, 1)}


def test_a_mixed_session_holds_back_its_walk_in_share(nurse_client, organisation, venue, service):
    # One hour, one lane, 15-minute slots: four places, half of them kept for walk-ins.
    session = _session(
        organisation,
        venue,
        service,
        starts_at=TOMORROW_10,
        ends_at=TOMORROW_10 + timedelta(hours=1),
        lanes=1,
        booking_mode=BookingMode.MIXED,
        walk_in_share_percent=50,
    )
    for name in ("Ana", "Ben"):
        patient = factories.PatientFactory(organisation=organisation, preferred_name=name)
        assert _book_next(nurse_client, session, patient, service).status_code == 201

    slots = _slots(nurse_client, session, service).json()
    third = _book_next(
        nurse_client, session, factories.PatientFactory(organisation=organisation), service
    )

    assert slots == []
    assert_error(third, 409, "no_free_slot")


def test_an_appointments_only_session_keeps_nothing_back_for_walk_ins(
    nurse_client, organisation, venue, service
):
    session = _session(
        organisation,
        venue,
        service,
        starts_at=TOMORROW_10,
        ends_at=TOMORROW_10 + timedelta(hours=1),
        lanes=1,
        booking_mode=BookingMode.APPOINTMENTS,
        walk_in_share_percent=50,
    )
    for _ in range(2):
        patient = factories.PatientFactory(organisation=organisation)
        assert _book_next(nurse_client, session, patient, service).status_code == 201

    assert len(_slots(nurse_client, session, service).json()) == 2


def test_minimum_notice_hides_slots_too_soon_to_book(nurse_client, organisation, venue, service):
    # Starts in an hour; two hours' notice hides its first hour.
    session = _session(
        organisation,
        venue,
        service,
        starts_at=NOW + timedelta(hours=1),
        minimum_notice_minutes=120,
    )

    slots = _slots(nurse_client, session, service).json()

    assert slots[0]["starts_at"] == "2026-06-01T11:00:00+01:00"
    assert len(slots) == 12


def test_slots_already_passed_are_hidden(nurse_client, organisation, venue, service):
    session = _session(organisation, venue, service, starts_at=NOW - timedelta(minutes=50))

    slots = _slots(nurse_client, session, service).json()

    # It started at 07:10 UTC; at 08:00 the slots up to 07:55 are gone, the next is 08:10 UTC.
    assert slots[0]["starts_at"] == "2026-06-01T09:10:00+01:00"
    assert len(slots) == 12


# --- The search across sessions ---------------------------------------------------------------


@pytest.fixture
def spread(organisation, venue, service):
    """Tomorrow: A at `venue` from 10:00 London, B elsewhere from 09:30, another trust at 09:00."""
    elsewhere = factories.VenueFactory(organisation=organisation)
    a = _session(organisation, venue, service, starts_at=TOMORROW_10, lanes=1)
    b = _session(
        organisation,
        elsewhere,
        service,
        starts_at=TOMORROW_10 - timedelta(minutes=30),
        ends_at=TOMORROW_10 + timedelta(minutes=30),
        lanes=1,
    )
    theirs = factories.OutreachSessionFactory(starts_at=TOMORROW_10 - timedelta(hours=1))
    theirs.services.add(service)
    return a, b, theirs


def test_the_search_returns_the_earliest_free_slots_in_order(nurse_client, service, spread):
    a, b, _ = spread

    slots = nurse_client.get(SEARCH, {"service": service.pk, "limit": 5}).json()

    assert [(slot["session"], slot["starts_at"]) for slot in slots] == [
        (b.pk, "2026-06-02T09:30:00+01:00"),
        (b.pk, "2026-06-02T09:45:00+01:00"),
        (a.pk, "2026-06-02T10:00:00+01:00"),
        (b.pk, "2026-06-02T10:00:00+01:00"),
        (a.pk, "2026-06-02T10:15:00+01:00"),
    ]


def test_the_search_leaves_out_another_organisations_sessions(nurse_client, service, spread):
    *_, theirs = spread

    slots = nurse_client.get(SEARCH, {"service": service.pk, "limit": 200}).json()

    assert slots
    assert theirs.pk not in {slot["session"] for slot in slots}


def test_the_search_keeps_to_one_venue(nurse_client, service, venue, spread):
    a, _, _ = spread

    slots = nurse_client.get(SEARCH, {"service": service.pk, "venue": venue.pk}).json()

    assert {slot["session"] for slot in slots} == {a.pk}
    assert len(slots) == 16


def test_the_search_keeps_to_the_window(nurse_client, service, spread):
    start = TOMORROW_10 + timedelta(hours=2)

    slots = nurse_client.get(
        SEARCH,
        {"service": service.pk, "from": iso(start), "to": iso(start + timedelta(minutes=30))},
    ).json()

    assert _starts(slots) == ["2026-06-02T12:00:00+01:00", "2026-06-02T12:15:00+01:00"]


def test_a_window_ending_before_it_starts_is_refused(nurse_client, service):
    error = assert_error(
        nurse_client.get(
            SEARCH, {"service": service.pk, "from": iso(TOMORROW_10), "to": iso(TOMORROW_10)}
        ),
        400,
        "invalid",
    )

    assert "to" in error["fields"]


def test_the_search_needs_a_service(nurse_client):
    error = assert_error(nurse_client.get(SEARCH), 400, "invalid")

    assert "service" in error["fields"]


def test_an_analyst_may_search_slots(service, spread, make_staff, client_for, organisation):
    analyst = client_for(make_staff(organisation, StaffMember.Role.ANALYST))

    response = analyst.get(SEARCH, {"service": service.pk, "limit": 1})

    assert response.status_code == 200
    assert len(response.json()) == 1


def test_the_search_asks_once_which_sessions_offer_the_service(nurse_client, service, spread):
    nurse_client.get(SEARCH, {"service": service.pk})  # warm the caches
    through = OutreachSession.services.through._meta.db_table

    with CaptureQueriesContext(connection) as captured:
        slots = nurse_client.get(SEARCH, {"service": service.pk, "limit": 5}).json()

    assert len(slots) == 5
    # Only as the sessions' filter (a join), never as a query of its own.
    reads = [q["sql"] for q in captured if through in (q["sql"] or "")]
    assert len(reads) == 1
    sessions = OutreachSession._meta.db_table
    assert reads[0].startswith(f'SELECT "{sessions}"."id"'), reads[0]


@pytest.mark.parametrize("zone", ["UTC", "Europe/London"])
def test_the_slots_answer_is_what_the_slot_serializer_writes(settings, zone):

    settings.TIME_ZONE = zone
    # Either side of the October clock change, one with microseconds, one in another zone.
    slots = [
        Slot(
            7,
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            1,
            2,
        ),
        Slot(
            8,
            datetime(2027, 10, 31, 1, 30, 0, 5, tzinfo=UTC),
            datetime(2027, 10, 31, 2, 0, tzinfo=UTC),
            3,
            1,
        ),
        Slot(
            9,
            datetime(2027, 7, 1, 10, tzinfo=ZoneInfo("Europe/Paris")),
            datetime(2027, 7, 1, 11, tzinfo=UTC),
            2,
            4,
        ),
    ]
    with timezone.override(zone):
        assert slots_data(slots) == SlotSerializer(slots, many=True).data
        assert slots_data([]) == []
