"""Reports as CSV: UTF-8 with a byte order mark for Excel, safe against formula injection.

One file per report: a row per group of every split (and the total first), so it opens as one
table in Excel and loads as one data frame in R or pandas.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from referrals.reports.measures import Report
from referrals.reports.period import Period
from referrals.reports.suppression import SMALL, SUPPRESSED, Median, Rate, shown_count
from referrals.reports.tables import Row, Table

BOM = "\ufeff"
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def header(report: Report) -> list[str]:
    labels = []
    for column in report.columns:
        if column.kind == "rate":
            labels.append(f"{column.label} (%)")
        else:
            labels.append(column.label)
    return ["Report", "From", "To", "Split", "Group", *labels]


def _cell(value: Any) -> Any:
    if isinstance(value, Rate):
        shown = value.shown()
        if value.denominator == 0:
            return ""
        return SUPPRESSED if shown is None else round(shown * 100, 1)
    if isinstance(value, Median):
        shown = value.shown()
        if value.count == 0:
            return ""
        return SUPPRESSED if shown is None else shown
    if isinstance(value, int):
        return shown_count(value)
    return value


def table_rows(table: Table, report: Report, *, with_total: bool) -> Iterator[list[Any]]:
    start = [report.title, table.period.first_day.isoformat(), table.period.last_day.isoformat()]
    rows: list[tuple[str, Row]] = []
    if with_total:
        rows.append(("All", table.total))
    rows += [(table.split_label, row) for row in table.rows]
    for split_label, row in rows:
        cells = [_cell(row.values[column.key]) for column in report.columns]
        yield [safe_cell(value) for value in [*start, split_label, row.label, *cells]]


def report_rows(
    report: Report,
    user: Any,
    period: Period,
    *,
    on_split: Callable[[int, int], None] | None = None,
) -> Iterator[list[Any]]:
    """The header, then each split's rows as its query finishes (the total once, first)."""
    yield header(report)
    splits = report.splits()
    for index, split in enumerate(splits):
        table = report.table(user, period, split.key)
        yield from table_rows(table, report, with_total=index == 0)
        if on_split is not None:
            on_split(index + 1, len(splits))


class _Line:
    """A file-like object that hands back what csv.writer wrote, one line at a time."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV text in pieces for a StreamingHttpResponse, starting with the byte order mark."""
    writer = csv.writer(_Line())
    yield BOM
    for row in rows:
        yield writer.writerow(row)


def csv_text(rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def filename(report: Report, period: Period) -> str:
    return f"outreach-{report.name}-{period.first_day}-to-{period.last_day}.csv"


__all__ = ["BOM", "SMALL", "csv_text", "filename", "report_rows", "safe_cell", "stream_csv"]
