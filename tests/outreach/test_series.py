"""Recurring clinics: which dates a series has, and the sessions kept created ahead of today.

Dates are passed in (`today=`) or the clock is frozen with time-machine: nothing here depends on
the day the tests run.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from outreach.models import OutreachSession, SessionSeries, StaffAssignment
from outreach.services import fill_series_horizon, local_datetime, move_session, series_dates
from tests import factories

LONDON = ZoneInfo("Europe/London")
MON, THU, SUN = 0, 3, 6


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _series(**fields) -> SessionSeries:
    defaults = {"weekdays": [MON], "start_date": date(2026, 6, 1), "interval_weeks": 1}
    return SessionSeries(**{**defaults, **fields})


def _days(*days: int, month: int = 6) -> list[date]:
    return [date(2026, month, day) for day in days]


# --- series_dates: pure date arithmetic, no database ----------------------------------------


def test_a_weekly_series_on_monday_and_thursday():
    series = _series(weekdays=[THU, MON])
    assert list(series_dates(series, until=date(2026, 6, 14))) == _days(1, 4, 8, 11)


def test_a_series_starting_midweek_begins_at_its_first_weekday_on_or_after_the_start():
    series = _series(weekdays=[MON, THU], start_date=date(2026, 6, 3))
    assert list(series_dates(series, until=date(2026, 6, 15))) == _days(4, 8, 11, 15)


def test_a_fortnightly_series_skips_every_other_week():
    series = _series(weekdays=[MON], interval_weeks=2)
    assert list(series_dates(series, until=date(2026, 7, 1))) == _days(1, 15, 29)


def test_a_fortnightly_series_counts_its_weeks_from_the_week_it_starts():
    series = _series(weekdays=[MON, THU], interval_weeks=2, start_date=date(2026, 6, 4))
    assert list(series_dates(series, until=date(2026, 7, 2))) == [
        *_days(4, 15, 18, 29),
        date(2026, 7, 2),
    ]


def test_the_until_argument_is_inclusive():
    series = _series(weekdays=[MON])
    assert list(series_dates(series, until=date(2026, 6, 15))) == _days(1, 8, 15)
    assert list(series_dates(series, until=date(2026, 6, 14))) == _days(1, 8)


def test_a_series_stops_at_its_until_date_inclusive():
    series = _series(weekdays=[MON, THU], until_date=date(2026, 6, 11))
    assert list(series_dates(series, until=date(2026, 12, 31))) == _days(1, 4, 8, 11)


def test_a_series_stops_after_its_occurrence_limit():
    series = _series(weekdays=[MON, THU], occurrence_limit=3)
    assert list(series_dates(series, until=date(2026, 12, 31))) == _days(1, 4, 8)


def test_the_occurrence_limit_counts_from_the_start_not_from_the_window():
    series = _series(weekdays=[MON], occurrence_limit=2, start_date=date(2026, 6, 1))
    assert list(series_dates(series, until=date(2026, 6, 7))) == _days(1)
    assert list(series_dates(series, until=date(2026, 12, 31))) == _days(1, 8)


def test_a_series_before_its_start_has_no_dates():
    assert list(series_dates(_series(), until=date(2026, 5, 31))) == []


# --- local_datetime: wall-clock times across the clock changes -----------------------------


def test_local_datetime_is_utc_plus_one_in_summer_and_utc_in_winter():
    summer = local_datetime(date(2026, 6, 1), time(10, 0))
    winter = local_datetime(date(2026, 12, 7), time(10, 0))
    assert summer.astimezone(UTC) == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert winter.astimezone(UTC) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_time_that_does_not_exist_in_spring_moves_forward_by_the_gap():
    # At 01:00 GMT on 29 March 2026 the clocks jump to 02:00 BST: 01:30 never happens.
    moved = local_datetime(date(2026, 3, 29), time(1, 30))
    local = moved.astimezone(LONDON)
    assert (local.hour, local.minute) == (2, 30)
    assert local.utcoffset() == timedelta(hours=1)
    assert moved.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_time_that_happens_twice_in_autumn_still_shows_that_time():
    # On 25 October 2026 01:30 happens twice (BST, then GMT); either way the clock reads 01:30.
    local = local_datetime(date(2026, 10, 25), time(1, 30)).astimezone(LONDON)
    assert (local.date(), local.hour, local.minute) == (date(2026, 10, 25), 1, 30)


# --- fill_series_horizon: creating the sessions ----------------------------------------------


def _saved_series(**fields) -> SessionSeries:
    services = fields.pop("services", None) or [factories.ServiceTypeFactory()]
    staff = fields.pop("staff", [])
    series = factories.SessionSeriesFactory(**fields)
    series.services.set(services)
    series.staff.set(staff)
    return series


def _occurrences(series: SessionSeries) -> list[date]:
    return sorted(series.sessions.values_list("occurrence_date", flat=True))


@pytest.mark.django_db
def test_filling_creates_each_date_up_to_the_horizon_with_the_series_details(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    series = _saved_series(weekdays=[MON, THU], lanes=3, slot_minutes=20)
    created = fill_series_horizon(series, today=date(2026, 6, 1))
    assert [session.occurrence_date for session in created] == _days(1, 4, 8, 11, 15)
    for session in created:
        assert session.series_id == series.pk
        assert session.organisation_id == series.organisation_id
        assert session.venue_id == series.venue_id
        assert (session.name, session.lanes, session.slot_minutes) == (series.name, 3, 20)
        assert session.status == OutreachSession.Status.PLANNED
        assert set(session.services.all()) == set(series.services.all())
        assert session.starts_at.astimezone(LONDON).time() == time(10, 0)
        assert session.ends_at.astimezone(LONDON).time() == time(14, 0)


@pytest.mark.django_db
def test_filling_leaves_out_dates_before_today(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    series = _saved_series(weekdays=[MON, THU])
    fill_series_horizon(series, today=date(2026, 6, 5))
    assert _occurrences(series) == _days(8, 11, 15, 18)


@pytest.mark.django_db
def test_filling_twice_creates_nothing_new(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    series = _saved_series(weekdays=[MON, THU], staff=[factories.StaffMemberFactory()])
    first = fill_series_horizon(series, today=date(2026, 6, 1))
    again = fill_series_horizon(series, today=date(2026, 6, 1))
    assert len(first) == 5
    assert again == []
    assert OutreachSession.objects.filter(series=series).count() == 5
    assert StaffAssignment.objects.filter(session__series=series).count() == 5


@pytest.mark.django_db
def test_filling_a_week_later_adds_only_the_new_week(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    series = _saved_series(weekdays=[MON, THU])
    fill_series_horizon(series, today=date(2026, 6, 1))
    later = fill_series_horizon(series, today=date(2026, 6, 8))
    assert [session.occurrence_date for session in later] == _days(18, 22)
    assert _occurrences(series) == _days(1, 4, 8, 11, 15, 18, 22)


@pytest.mark.django_db
def test_the_horizon_follows_the_setting(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    series = _saved_series(weekdays=[MON])
    assert len(fill_series_horizon(series, today=date(2026, 6, 1))) == 2  # 1 and 8 June
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 4
    assert len(fill_series_horizon(series, today=date(2026, 6, 1))) == 3  # 15, 22, 29 June


@pytest.mark.django_db
def test_filling_respects_the_until_date_and_the_occurrence_limit(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 8
    ending = _saved_series(weekdays=[MON], until_date=date(2026, 6, 15))
    limited = _saved_series(weekdays=[MON], occurrence_limit=2)
    fill_series_horizon(ending, today=date(2026, 6, 1))
    fill_series_horizon(limited, today=date(2026, 6, 1))
    assert _occurrences(ending) == _days(1, 8, 15)
    assert _occurrences(limited) == _days(1, 8)


@pytest.mark.django_db
def test_filling_without_a_date_uses_todays_date_in_london(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    series = _saved_series(weekdays=[MON])
    # 23:30 UTC on Sunday 31 May is already 00:30 on Monday 1 June in London.
    with time_machine.travel(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), tick=False):
        fill_series_horizon(series)
    assert _occurrences(series) == _days(1, 8)


@pytest.mark.django_db
def test_each_session_gets_its_staff_assigned_for_the_sessions_times(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    nurse, hca = factories.StaffMemberFactory(), factories.StaffMemberFactory(role="hca")
    series = _saved_series(weekdays=[MON, THU], staff=[nurse, hca])
    created = fill_series_horizon(series, today=date(2026, 6, 1))
    assert len(created) == 3
    for session in created:
        assignments = list(session.assignments.all())
        assert {a.staff_id for a in assignments} == {nurse.pk, hca.pk}
        for assignment in assignments:
            assert (assignment.starts_at, assignment.ends_at) == (
                session.starts_at,
                session.ends_at,
            )
            assert assignment.is_live


@pytest.mark.django_db
def test_a_nurse_already_working_elsewhere_is_left_off_that_session(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    nurse = factories.StaffMemberFactory()
    elsewhere = factories.OutreachSessionFactory(
        starts_at=local_datetime(date(2026, 6, 8), time(9, 0)),
        ends_at=local_datetime(date(2026, 6, 8), time(11, 0)),
    )
    factories.StaffAssignmentFactory(session=elsewhere, staff=nurse)
    series = _saved_series(weekdays=[MON], staff=[nurse])
    created = fill_series_horizon(series, today=date(2026, 6, 1))
    staffed = {
        s.occurrence_date: list(s.assignments.values_list("staff_id", flat=True)) for s in created
    }
    assert staffed == {date(2026, 6, 1): [nurse.pk], date(2026, 6, 8): []}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "utc_start_hours"),
    [
        # Last Sunday of March 2026 (29th): London goes from UTC+0 to UTC+1.
        (date(2026, 3, 15), [10, 10, 9, 9]),
        # Last Sunday of October 2026 (25th): London goes from UTC+1 back to UTC+0.
        (date(2026, 10, 11), [9, 9, 10, 10]),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_ten_oclock_series_stays_at_ten_local_across_the_clock_change(
    settings, start, utc_start_hours
):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 3
    series = _saved_series(weekdays=[SUN], start_date=start)
    created = fill_series_horizon(series, today=start)
    assert [s.starts_at.astimezone(UTC).hour for s in created] == utc_start_hours
    assert [s.ends_at.astimezone(UTC).hour for s in created] == [h + 4 for h in utc_start_hours]
    for session in created:
        assert session.starts_at.astimezone(LONDON).time() == time(10, 0)
        assert session.ends_at - session.starts_at == timedelta(hours=4)


@pytest.mark.django_db
def test_a_date_whose_bus_is_already_out_is_skipped_and_logged(settings, caplog):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 2
    bus = factories.MobileUnitFactory()
    factories.OutreachSessionFactory(
        mobile_unit=bus,
        starts_at=local_datetime(date(2026, 6, 8), time(13, 0)),
        ends_at=local_datetime(date(2026, 6, 8), time(16, 0)),
    )
    series = _saved_series(weekdays=[MON], mobile_unit=bus)
    with caplog.at_level(logging.WARNING):
        created = fill_series_horizon(series, today=date(2026, 6, 1))
    assert [s.occurrence_date for s in created] == _days(1, 15)
    assert any("2026-06-08 skipped" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_cancelled_session_does_not_keep_the_bus_from_the_series(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    bus = factories.MobileUnitFactory()
    factories.OutreachSessionFactory(
        mobile_unit=bus,
        starts_at=local_datetime(date(2026, 6, 8), time(10, 0)),
        status=OutreachSession.Status.CANCELLED,
        cancellation_reason="Venue closed.",
    )
    series = _saved_series(weekdays=[MON], mobile_unit=bus)
    assert len(fill_series_horizon(series, today=date(2026, 6, 1))) == 2


@pytest.mark.django_db
def test_cancelling_a_session_takes_its_staff_off_the_rota(settings):
    settings.OUTREACH_SERIES_HORIZON_WEEKS = 1
    nurse = factories.StaffMemberFactory()
    series = _saved_series(weekdays=[MON], staff=[nurse])
    cancelled, kept = fill_series_horizon(series, today=date(2026, 6, 1))
    move_session(
        cancelled,
        OutreachSession.Status.CANCELLED,
        by=factories.UserFactory(),
        reason="The bus broke down.",
        cancellation_reason="The bus broke down.",
    )
    assert list(cancelled.assignments.values_list("is_live", flat=True)) == [False]
    assert list(kept.assignments.values_list("is_live", flat=True)) == [True]
