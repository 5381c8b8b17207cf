"""Referral conversion and median days to first appointment, on both databases."""

from datetime import date

import pytest

from clinics.models import Patient
from referrals.models import Referral
from referrals.reports import Period, get_report
from referrals.reports import measures as measures_module
from tests import factories
from tests.referrals.reports.conftest import PERIOD, london

pytestmark = pytest.mark.django_db

R = Referral.Status
COUNTS = ("sent", "booked", "attended", "with_date")


def counts(table):
    return {row.label: tuple(row.values[key] for key in COUNTS) for row in table.rows}


def medians(table):
    return {row.label: row.values["median_days"].value for row in table.rows}


@pytest.fixture(params=["database", "window functions"])
def median_path(request, monkeypatch):
    """Each test once with the database's own median and once with the portable fallback."""
    if request.param == "window functions":
        monkeypatch.setattr(measures_module, "supports_percentile", lambda queryset: False)
    return request.param


@pytest.fixture
def referrals(organisation, other_organisation, refer):
    hep = factories.DestinationFactory(name="Hepatitis C service")
    sexual = factories.DestinationFactory(name="Sexual health clinic")
    alpha = factories.VenueFactory(organisation=organisation, imd_decile=1)
    session = factories.OutreachSessionFactory(organisation=organisation, venue=alpha)

    def white(**kwargs):
        return {"patient": factories.PatientFactory(
            organisation=organisation, ethnicity=Patient.Ethnicity.WHITE_BRITISH
        ), **kwargs}  # fmt: skip

    org = organisation
    # Hepatitis C: days to first appointment 10, 4, 20, 31 and 5.
    refer(
        org,
        hep,
        london(2026, 2, 2, 10),
        status=R.ATTENDED,
        appointment=london(2026, 2, 12, 10),
        attended=london(2026, 2, 12, 11),
        source_session=session,
        **white(),
    )
    refer(
        org,
        hep,
        london(2026, 2, 3, 10),
        status=R.BOOKED,
        appointment=london(2026, 2, 7, 9),
        source_session=session,
        **white(),
    )
    # Booked without a date given, then attended: the day attended counts.
    refer(
        org,
        hep,
        london(2026, 2, 4, 10),
        status=R.CLOSED,
        attended=london(2026, 2, 24, 15),
        source_session=session,
        **white(),
    )
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (BST): 31 days, not 30.
    refer(
        org,
        hep,
        london(2026, 3, 1, 10),
        status=R.BOOKED,
        appointment=london(2026, 4, 1, 0, 30),
        **white(),
    )
    refer(org, hep, london(2026, 3, 5, 10), status=R.SENT, **white())
    refer(org, hep, london(2026, 3, 6, 10), status=R.REJECTED, **white())
    refer(
        org,
        hep,
        london(2026, 4, 1, 10),
        status=R.ATTENDED,
        appointment=london(2026, 4, 6, 10),
        attended=london(2026, 4, 6, 10),
        **white(),
    )
    # Sexual health: 2, 3, 3, 7 and 9 days; one unanswered, one withdrawn.
    for day, wait in zip(range(1, 6), (2, 3, 3, 7, 9), strict=True):
        refer(
            org,
            sexual,
            london(2026, 5, day, 9),
            status=R.ATTENDED,
            appointment=london(2026, 5, day + wait, 9),
            attended=london(2026, 5, day + wait, 10),
        )
    refer(org, sexual, london(2026, 5, 6, 9), status=R.SENT)
    refer(org, sexual, london(2026, 5, 7, 9), status=R.WITHDRAWN)
    # Not counted: sent before the period, never sent, and another organisation's.
    refer(
        org,
        hep,
        london(2025, 12, 31, 23, 59),
        status=R.ATTENDED,
        appointment=london(2026, 1, 2, 9),
        attended=london(2026, 1, 2, 9),
    )
    refer(org, hep, None, status=R.DRAFT)
    refer(other_organisation, hep, london(2026, 2, 2, 10), status=R.ATTENDED,
          appointment=london(2026, 2, 3), attended=london(2026, 2, 3))  # fmt: skip


def test_conversion_and_median_by_destination(referrals, coordinator, median_path):
    table = get_report("referrals").table(coordinator.user, PERIOD, "destination")

    assert counts(table) == {
        "Hepatitis C service": (7, 5, 3, 5),
        "Sexual health clinic": (7, 5, 5, 5),
    }
    assert medians(table) == {"Hepatitis C service": 10.0, "Sexual health clinic": 3.0}
    sexual = table.rows[1].values
    assert sexual["conversion_rate"].value == 5 / 7
    assert sexual["conversion_rate"].shown() is None  # 5 of 7 gives away the 2 who did not
    assert table.rows[0].values["conversion_rate"].shown() is None  # 3 attended: suppressed
    total = table.total.values
    assert tuple(total[key] for key in COUNTS) == (14, 10, 8, 10)
    # Ten waits: 2 3 3 4 5 | 7 9 10 20 31, so the median is the mean of 5 and 7.
    assert total["median_days"].value == 6.0
    assert total["median_days"].shown() == 6.0
    assert total["conversion_rate"].shown() == round(8 / 14, 4)


def test_referrals_by_month_of_sending_and_deprivation_of_the_source_venue(
    referrals, coordinator, median_path
):
    report = get_report("referrals")
    by_month = report.table(coordinator.user, PERIOD, "month")
    by_decile = report.table(coordinator.user, PERIOD, "deprivation")

    assert counts(by_month) == {
        "January 2026": (0, 0, 0, 0),
        "February 2026": (3, 3, 2, 3),
        "March 2026": (3, 1, 0, 1),
        "April 2026": (1, 1, 1, 1),
        "May 2026": (7, 5, 5, 5),
        "June 2026": (0, 0, 0, 0),
    }
    assert medians(by_month) == {
        "January 2026": None,
        "February 2026": 10.0,
        "March 2026": 31.0,
        "April 2026": 5.0,
        "May 2026": 3.0,
        "June 2026": None,
    }
    assert counts(by_decile) == {"1 (most deprived)": (3, 3, 2, 3), "Not known": (11, 7, 6, 7)}
    # 2 3 3 5 7 9 31: the fourth of seven.
    assert medians(by_decile) == {"1 (most deprived)": 10.0, "Not known": 5.0}
    assert by_decile.rows[0].values["median_days"].shown() is None  # three values only


def test_referrals_by_ethnicity(referrals, coordinator, median_path):
    table = get_report("referrals").table(coordinator.user, PERIOD, "ethnicity")

    assert counts(table) == {"White: British": (7, 5, 3, 5), "Not recorded": (7, 5, 5, 5)}
    assert medians(table) == {"White: British": 10.0, "Not recorded": 3.0}


def test_an_empty_period_has_no_median(referrals, coordinator, median_path):
    table = get_report("referrals").table(
        coordinator.user, Period(date(2024, 1, 1), date(2024, 6, 30)), "destination"
    )

    assert table.rows == []
    assert table.total.values["sent"] == 0
    assert table.total.values["median_days"].value is None
    assert table.total.values["median_days"].text() == "no data"


def test_a_median_of_two_values_is_their_mean(organisation, coordinator, refer, median_path):
    hep = factories.DestinationFactory()
    for wait in (3, 8):
        refer(organisation, hep, london(2026, 2, 1, 9), status=R.BOOKED,
              appointment=london(2026, 2, 1 + wait, 9))  # fmt: skip

    table = get_report("referrals").table(coordinator.user, PERIOD, "destination")

    assert table.rows[0].values["median_days"].value == 5.5


def test_the_referral_report_query_count_is_fixed(
    referrals, coordinator, django_assert_num_queries, median_path
):
    # Grouped and total queries, plus one median query each where the database has none.
    expected = 2 if median_path == "database" and _is_postgres() else 4
    with django_assert_num_queries(expected):
        get_report("referrals").table(coordinator.user, PERIOD, "destination")


def _is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
