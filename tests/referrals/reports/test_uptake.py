"""Uptake and no-shows against hand-counted expectations, split every way."""

from datetime import date

import pytest

from clinics.models import Patient
from outreach.models import Booking
from referrals.reports import Period, get_report
from tests import factories
from tests.referrals.reports.conftest import PERIOD, london

pytestmark = pytest.mark.django_db

S = Booking.Status
WALK_IN = Booking.Source.WALK_IN
A, N = Patient.Ethnicity.WHITE_BRITISH, Patient.Ethnicity.BLACK_AFRICAN
F, M = Patient.Sex.FEMALE, Patient.Sex.MALE
ROUGH, HOSTEL, SOFA = (
    Patient.Housing.ROUGH_SLEEPING,
    Patient.Housing.HOSTEL,
    Patient.Housing.SOFA_SURFING,
)
COUNTS = ("booked", "attended", "no_show", "awaiting", "walk_ins")


def counts(table):
    return {row.label: tuple(row.values[key] for key in COUNTS) for row in table.rows}


@pytest.fixture
def clinics(organisation, other_organisation, book):
    """Two venues, two services and the bookings the docstrings of each test count."""
    alpha = factories.VenueFactory(organisation=organisation, name="Alpha hostel", imd_decile=1)
    beta = factories.VenueFactory(organisation=organisation, name="Beta day centre", imd_decile=7)
    check = factories.ServiceTypeFactory(name="Health check")
    eyes = factories.ServiceTypeFactory(name="Eye test")

    def session(venue, starts_at, org=organisation):
        return factories.OutreachSessionFactory(organisation=org, venue=venue, starts_at=starts_at)

    march = session(alpha, london(2026, 3, 10, 10))
    for _ in range(3):
        book(march, check, S.FULFILLED, ethnicity=A, sex=F, housing_status=ROUGH)
    book(march, check, S.FULFILLED, ethnicity=A, sex=M, housing_status=HOSTEL)
    for _ in range(2):
        book(march, check, S.FULFILLED, ethnicity=N, sex=M, housing_status=HOSTEL)
    book(march, check, S.NOSHOW, ethnicity=A, sex=F, housing_status=ROUGH)
    book(march, check, S.NOSHOW)
    book(march, check, S.CANCELLED, ethnicity=A, sex=F)
    book(march, check, S.ENTERED_IN_ERROR, ethnicity=A, sex=F)
    for _ in range(2):
        book(march, check, S.FULFILLED, source=WALK_IN, ethnicity=N, sex=M, housing_status=HOSTEL)

    april = session(beta, london(2026, 4, 15, 10))
    book(april, eyes, S.ARRIVED, ethnicity=A, sex=F, housing_status=SOFA)
    for _ in range(2):
        book(april, eyes, S.ARRIVED, ethnicity=A, sex=F, housing_status=ROUGH)
    book(april, eyes, S.NOSHOW, ethnicity=N, sex=M, housing_status=HOSTEL)
    book(april, eyes, S.BOOKED)
    book(april, eyes, S.BOOKED)
    book(april, eyes, S.NOSHOW, source=WALK_IN)

    # 23:30 on 30 June in London (BST) is inside the period; 00:30 on 1 July is not, although
    # both are 30 June in UTC. 23:30 on 31 December 2025 (GMT) is outside too.
    late = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=beta,
        starts_at=london(2026, 6, 30, 23, 30),
        ends_at=london(2026, 6, 30, 23, 59),
    )
    book(late, check, S.FULFILLED, ethnicity=N, sex=M, housing_status=HOSTEL)
    after = factories.OutreachSessionFactory(
        organisation=organisation, venue=beta, starts_at=london(2026, 7, 1, 0, 30)
    )
    book(after, check, S.FULFILLED)
    before = factories.OutreachSessionFactory(
        organisation=organisation, venue=alpha, starts_at=london(2025, 12, 31, 23, 30)
    )
    book(before, check, S.NOSHOW)

    elsewhere = factories.VenueFactory(organisation=other_organisation, imd_decile=1)
    theirs = session(elsewhere, london(2026, 3, 10, 10), org=other_organisation)
    for _ in range(5):
        book(theirs, check, S.FULFILLED)


def test_uptake_by_service_counts_appointments_booked_ahead(clinics, coordinator):
    table = get_report("uptake").table(coordinator.user, PERIOD, "service")

    assert counts(table) == {"Eye test": (6, 3, 1, 2, 0), "Health check": (9, 7, 2, 0, 2)}
    health = table.rows[1].values
    assert (health["uptake_rate"].numerator, health["uptake_rate"].denominator) == (7, 9)
    assert health["no_show_rate"].value == pytest.approx(2 / 9)
    total = table.total.values
    assert tuple(total[key] for key in COUNTS) == (15, 10, 3, 2, 2)
    assert total["uptake_rate"].value == pytest.approx(10 / 13)
    # 10 of 13 gives away the 3 who did not come, and 3 of 13 is the 3 itself.
    assert total["uptake_rate"].shown() is None
    assert total["no_show_rate"].shown() is None


def test_rates_are_shown_when_no_count_behind_them_is_small(organisation, coordinator, book):
    session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=london(2026, 2, 2, 10)
    )
    service = factories.ServiceTypeFactory(name="Blood pressure")
    for status in [S.FULFILLED] * 10 + [S.NOSHOW] * 5:
        book(session, service, status)

    (row,) = get_report("uptake").table(coordinator.user, PERIOD, "service").rows

    assert row.shown()["uptake_rate"] == 0.6667
    assert row.shown()["no_show_rate"] == 0.3333
    assert row.shown()["no_show"] == 5


def test_uptake_by_venue_and_deprivation_decile_of_the_venue(clinics, coordinator):
    uptake = get_report("uptake")
    by_venue = uptake.table(coordinator.user, PERIOD, "venue")
    by_decile = uptake.table(coordinator.user, PERIOD, "deprivation")

    assert counts(by_venue) == {"Alpha hostel": (8, 6, 2, 0, 2), "Beta day centre": (7, 4, 1, 2, 0)}
    assert counts(by_decile) == {"1 (most deprived)": (8, 6, 2, 0, 2), "7": (7, 4, 1, 2, 0)}


def test_uptake_by_month_uses_london_dates_and_shows_every_month(clinics, coordinator):
    table = get_report("uptake").table(coordinator.user, PERIOD, "month")

    assert [row.key for row in table.rows] == [date(2026, month, 1) for month in range(1, 7)]
    assert counts(table) == {
        "January 2026": (0, 0, 0, 0, 0),
        "February 2026": (0, 0, 0, 0, 0),
        "March 2026": (8, 6, 2, 0, 2),
        "April 2026": (6, 3, 1, 2, 0),
        "May 2026": (0, 0, 0, 0, 0),
        "June 2026": (1, 1, 0, 0, 0),
    }


def test_uptake_by_ethnicity_sex_and_housing_of_the_person(clinics, coordinator):
    uptake = get_report("uptake")
    user = coordinator.user

    assert counts(uptake.table(user, PERIOD, "ethnicity")) == {
        "White: British": (8, 7, 1, 0, 0),
        "Black or Black British: African": (4, 3, 1, 0, 2),
        "Not recorded": (3, 0, 1, 2, 0),
    }
    assert counts(uptake.table(user, PERIOD, "sex")) == {
        "Female": (7, 6, 1, 0, 0),
        "Male": (5, 4, 1, 0, 2),
        "Not recorded": (3, 0, 1, 2, 0),
    }
    assert counts(uptake.table(user, PERIOD, "housing")) == {
        "Rough sleeping": (6, 5, 1, 0, 0),
        "Hostel": (5, 4, 1, 0, 2),
        "Sofa surfing": (1, 1, 0, 0, 0),
        "Not known": (3, 0, 1, 2, 0),
    }


def test_an_analyst_gets_the_same_aggregates(clinics, analyst):
    table = get_report("uptake").table(analyst.user, PERIOD, "service")

    assert counts(table) == {"Eye test": (6, 3, 1, 2, 0), "Health check": (9, 7, 2, 0, 2)}


def test_an_empty_period_has_no_rows_and_rates_with_no_data(clinics, coordinator):
    empty = Period(date(2024, 1, 1), date(2024, 12, 31))

    table = get_report("uptake").table(coordinator.user, empty, "month")

    assert table.rows == []
    assert tuple(table.total.values[key] for key in COUNTS) == (0, 0, 0, 0, 0)
    assert table.total.values["uptake_rate"].shown() is None
    assert table.total.values["uptake_rate"].percent_text() == "no data"


@pytest.mark.parametrize("split", ["service", "venue", "month", "deprivation", "ethnicity"])
def test_the_query_count_does_not_grow_with_the_data(
    split, organisation, coordinator, book, django_assert_num_queries
):
    venue = factories.VenueFactory(organisation=organisation)
    service = factories.ServiceTypeFactory()
    uptake = get_report("uptake")

    def measured() -> int:
        with django_assert_num_queries(2) as captured:
            uptake.table(coordinator.user, PERIOD, split)
        return len(captured.captured_queries)

    session = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=london(2026, 2, 2, 10)
    )
    book(session, service)
    small = measured()
    for month in (3, 4, 5):
        other = factories.OutreachSessionFactory(
            organisation=organisation,
            venue=factories.VenueFactory(organisation=organisation, imd_decile=month),
            starts_at=london(2026, month, 2, 10),
        )
        for status in (S.FULFILLED, S.NOSHOW, S.BOOKED):
            book(other, factories.ServiceTypeFactory(), status, ethnicity=A)
    assert measured() == small == 2
