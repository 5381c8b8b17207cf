"""Medians in the database: percentile_cont on PostgreSQL, window functions on SQLite.

Both give the textbook median (the middle value, or the mean of the two middle values), so a
test can check the same hand-computed answer on each database.
"""

from typing import Any

from django.db import connections
from django.db.models import Aggregate, Count, F, FloatField, Func, IntegerField, QuerySet, Window
from django.db.models.functions import RowNumber


class PercentileMedian(Aggregate):
    """PostgreSQL's ordered-set aggregate: the continuous 50th percentile of the group."""

    function = "percentile_cont"
    name = "PercentileMedian"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """Whole days from the second date to the first (both plain dates, already in London)."""

    arity = 2
    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps dates as text: julianday turns them into day numbers.
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


def supports_percentile(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def medians_by_group(queryset: QuerySet, group: Any, value: Any) -> dict[Any, float]:
    """{group: median of value} in one query, for a database without percentile_cont.

    Rows are numbered within each group in order of value; the median is the mean of the
    row(s) numbered (n + 1) // 2 and (n + 2) // 2, which is one row when n is odd.
    """
    inner = (
        queryset.annotate(m_group=group, m_value=value)
        .filter(m_value__isnull=False)
        .annotate(
            m_row=Window(RowNumber(), partition_by=[F("m_group")], order_by=F("m_value").asc()),
            m_count=Window(Count("pk"), partition_by=[F("m_group")]),
        )
        .values("m_group", "m_value", "m_row", "m_count")
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    # Only our own aliases are spliced in; every value stays a bound parameter.
    outer = (
        f"SELECT m.m_group, AVG(m.m_value) FROM ({sql}) m "  # noqa: S608  # nosec B608
        "WHERE m.m_row IN ((m.m_count + 1) / 2, (m.m_count + 2) / 2) GROUP BY m.m_group"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(outer, params)
        return {key: float(median) for key, median in cursor.fetchall()}
