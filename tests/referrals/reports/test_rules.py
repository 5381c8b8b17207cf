"""The small-number rule, the reporting period and the CSV's safety."""

import csv
import io
from datetime import date

import pytest
import time_machine

from referrals.reports import Period, PeriodError
from referrals.reports.export import BOM, csv_text, safe_cell, stream_csv
from referrals.reports.suppression import Median, Rate, shown, shown_count


@pytest.mark.parametrize(
    ("count", "expected"), [(0, 0), (1, "<5"), (2, "<5"), (4, "<5"), (5, 5), (120, 120)]
)
def test_counts_from_one_to_four_are_shown_as_less_than_five(count, expected):
    assert shown_count(count) == expected
    assert shown(count) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 10, 0.5),
        (0, 10, 0.0),
        (10, 10, 1.0),
        (3, 100, None),  # 3% of 100 would give the suppressed 3 back
        (97, 100, None),  # and so would 97%: the 3 who were not
        (95, 100, 0.95),
        (5, 4, None),
        (0, 3, None),  # the denominator is small
        (0, 0, None),
    ],
)
def test_a_rate_is_hidden_when_a_count_it_is_made_from_is_small(numerator, denominator, expected):
    rate = Rate(numerator, denominator)

    assert rate.shown() == expected
    assert shown(rate) == expected


def test_a_rate_reads_as_a_percentage_or_says_why_not():
    assert Rate(36, 50).percent_text() == "72%"
    assert Rate(48, 50).percent_text() == "suppressed"
    assert Rate(2, 50).percent_text() == "suppressed"
    assert Rate(0, 0).percent_text() == "no data"


@pytest.mark.parametrize(
    ("value", "count", "expected"),
    [(6.0, 10, 6.0), (10.0, 4, None), (None, 0, None), (2.25, 5, 2.2)],
)
def test_a_median_of_fewer_than_five_values_is_hidden(value, count, expected):
    assert Median(value, count).shown() == expected


def test_the_default_period_is_this_month_and_the_eleven_before_it_in_london():
    # 23:30 UTC on 31 May 2026 is already 1 June in London.
    with time_machine.travel("2026-05-31T23:30:00Z", tick=False):
        period = Period.default()

    assert period == Period(date(2025, 7, 1), date(2026, 6, 1))
    assert len(period.months()) == 12


def test_the_period_runs_from_london_midnight_to_london_midnight():
    period = Period(date(2026, 3, 1), date(2026, 6, 30))

    assert period.starts_at.isoformat() == "2026-03-01T00:00:00+00:00"
    assert period.ends_at.isoformat() == "2026-07-01T00:00:00+01:00"


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-13-01", "", "from"),
        ("", "yesterday", "to"),
        ("2026-06-01", "2026-05-01", "to"),
        ("2019-01-01", "2026-01-01", "from"),
    ],
)
def test_a_bad_period_says_which_date_is_wrong(first, last, field):
    with pytest.raises(PeriodError) as raised:
        Period.parse(first, last, today=date(2026, 6, 1))

    assert field in raised.value.extra["fields"]


def test_missing_dates_take_their_defaults():
    assert Period.parse("", None, today=date(2026, 6, 1)) == Period(
        date(2025, 7, 1), date(2026, 6, 1)
    )
    assert Period.parse("2026-02-01", "", today=date(2026, 6, 1)).first_day == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 7700", "'+44 7700"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Alpha hostel", "Alpha hostel"),
        ("<5", "<5"),
        (12, 12),
    ],
)
def test_cells_a_spreadsheet_would_run_are_made_inert(value, expected):
    assert safe_cell(value) == expected


def test_the_csv_starts_with_a_byte_order_mark_and_quotes_what_it_must():
    rows = [["Group", "Count"], ['Quote " and, comma', 3]]

    text = csv_text(rows)
    streamed = "".join(stream_csv(rows))

    assert text == streamed
    assert text.startswith(BOM)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(text.removeprefix(BOM)))) == [
        ["Group", "Count"],
        ['Quote " and, comma', "3"],
    ]
