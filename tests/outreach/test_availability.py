"""The slot search reads sessions a page at a time and must still return the earliest slots."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach import availability
from outreach.models import Booking, BookingMode, OutreachSession
from tests import factories

pytestmark = pytest.mark.django_db

START = factories.BASE_TIME + timedelta(days=30)
BEFORE = factories.BASE_TIME


def _session(service, starts_at, hours, **fields):
    session = factories.OutreachSessionFactory(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        lanes=1,
        slot_minutes=60,
        booking_mode=BookingMode.APPOINTMENTS,
        **fields,
    )
    session.services.add(service)
    return session


def _fill(session, service, *, except_hour=None):
    """Book every hour of a one-lane session, leaving `except_hour` (0-based) free."""
    for hour in range(int((session.ends_at - session.starts_at) / timedelta(hours=1))):
        if hour == except_hour:
            continue
        starts_at = session.starts_at + timedelta(hours=hour)
        factories.BookingFactory(
            session=session,
            service_type=service,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            lane=1,
        )


def test_a_later_page_is_read_when_the_first_sessions_are_full():
    service = factories.ServiceTypeFactory(default_duration_minutes=60)
    full = [_session(service, START + timedelta(hours=i), 2) for i in range(3)]
    for session in full:
        _fill(session, service)
    open_one = _session(service, START + timedelta(days=1), 2)

    found = availability.search_slots(
        OutreachSession.objects.all(), service, now=BEFORE, limit=1, page_size=2
    )

    assert [(slot.session_id, slot.starts_at) for slot in found] == [
        (open_one.pk, open_one.starts_at)
    ]


def test_a_later_session_with_an_earlier_slot_wins_over_a_long_one_read_first():
    service = factories.ServiceTypeFactory(default_duration_minutes=60)
    long_day = _session(service, START, 8)
    _fill(long_day, service, except_hour=7)  # only the last hour is free
    later = _session(service, START + timedelta(hours=1), 2)

    found = availability.search_slots(
        OutreachSession.objects.all(), service, now=BEFORE, limit=1, page_size=1
    )

    assert [(slot.session_id, slot.starts_at) for slot in found] == [(later.pk, later.starts_at)]


def test_the_search_gives_the_same_slots_whatever_the_page_size():
    service = factories.ServiceTypeFactory(default_duration_minutes=60)
    for day in range(4):
        session = _session(service, START + timedelta(days=day, hours=day), 4)
        _fill(session, service, except_hour=day % 4)
    everything = availability.free_slots(
        OutreachSession.objects.all(), service, now=BEFORE, limit=None
    )

    for page_size in (1, 2, 3, 40):
        found = availability.search_slots(
            OutreachSession.objects.all(), service, now=BEFORE, limit=3, page_size=page_size
        )
        assert found == everything[:3], page_size
    assert Booking.objects.count() == 12


def test_a_search_across_a_night_reads_the_next_morning_from_its_first_session(monkeypatch):
    service = factories.ServiceTypeFactory(default_duration_minutes=60)
    evening = _session(service, START, 2)
    _fill(evening, service, except_hour=1)
    morning = _session(service, START + timedelta(hours=16), 8)
    _fill(morning, service, except_hour=3)
    windows = []
    read = availability.booking_sql.lane_bookings

    def recording(session_ids, start, end):
        windows.append((sorted(session_ids), start, end))
        return read(session_ids, start, end)

    monkeypatch.setattr(availability.booking_sql, "lane_bookings", recording)

    found = availability.free_slots(OutreachSession.objects.all(), service, now=BEFORE, limit=2)

    assert [(slot.session_id, slot.starts_at) for slot in found] == [
        (evening.pk, evening.starts_at + timedelta(hours=1)),
        (morning.pk, morning.starts_at + timedelta(hours=3)),
    ]
    # The night is skipped: the morning's first read starts at its session, a first window wide
    # (plus the slot's length), not a doubled window reaching back into the night.
    morning_reads = [(start, end) for ids, start, end in windows if ids == [morning.pk]]
    assert morning_reads[0] == (
        morning.starts_at,
        morning.starts_at + availability._FIRST_WINDOW + timedelta(hours=1),
    )
    assert all(ids == [evening.pk] for ids, _, _ in windows[: -len(morning_reads)])


def test_a_search_with_nothing_after_a_gap_stops():
    service = factories.ServiceTypeFactory(default_duration_minutes=60)
    evening = _session(service, START, 2)
    _fill(evening, service)

    assert availability.free_slots(OutreachSession.objects.all(), service, now=BEFORE) == []


_MINUTE = timedelta(minutes=1)
_interval = st.tuples(st.integers(0, 120), st.integers(1, 40)).map(
    lambda pair: (START + pair[0] * _MINUTE, START + (pair[0] + pair[1]) * _MINUTE)
)


@settings(max_examples=300, deadline=None)
@given(
    by_lane=st.dictionaries(st.integers(1, 4), st.lists(_interval, max_size=8), max_size=4),
    lanes=st.integers(1, 5),
    slot=_interval,
)
def test_the_lane_index_finds_the_lanes_free_lanes_finds(by_lane, lanes, slot):
    """Overlapping bookings in a lane included, as on a database without the constraint."""
    assert availability.LaneIndex(by_lane, lanes).free(*slot) == availability.free_lanes(
        by_lane, lanes, *slot
    )


def test_the_lane_index_sees_a_booking_that_ends_as_a_slot_starts_as_not_in_it():
    by_lane = {1: [(START, START + 10 * _MINUTE), (START + 20 * _MINUTE, START + 30 * _MINUTE)]}
    index = availability.LaneIndex(by_lane, 2)

    assert index.free(START + 10 * _MINUTE, START + 20 * _MINUTE) == [1, 2]
    assert index.free(START + 9 * _MINUTE, START + 20 * _MINUTE) == [2]
    assert index.free(START + 10 * _MINUTE, START + 21 * _MINUTE) == [2]
