"""Horizontal bar charts drawn on the server as SVG: no JavaScript, no charting library.

Bars are laid out in percentages of the chart's width and text in CSS pixels, so one chart
reads the same on a 390 px phone and a desktop: the label sits above its bar, the value is
written on the bar (or just after a short one), and a suppressed or empty value says so where
the bar would be. Every chart has its data table next to it for screen readers.
"""

import math
import textwrap
from dataclasses import dataclass
from typing import Any

from referrals.reports.suppression import SUPPRESSED, Median, Rate, is_small
from referrals.reports.tables import Column, Table

LABEL_LINE = 18
BAR = 26
GAP = 14
TOP = 8
AXIS = 44
LABEL_CHARS = 34
# Past this share of the width the value goes inside the bar, in white: "100% (40 of 40)"
# after a bar of 60% would run off a 390 px phone.
INSIDE_FROM = 0.55


@dataclass(frozen=True)
class Bar:
    lines: list[tuple[int, str]]  # (y, text) of each line of the label
    y: int
    width: str  # "37.5%"
    value_x: str
    value_y: int
    value_text: str
    inside: bool
    missing: bool


@dataclass(frozen=True)
class Tick:
    x: str
    label: str
    anchor: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    axis_label: str
    group_label: str
    bars: list[Bar]
    ticks: list[Tick]
    height: int
    axis_y: int


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _value(value: Rate | Median) -> float | None:
    return value.shown()


def _value_text(value: Rate | Median) -> tuple[str, bool]:
    """What is written on the bar, and whether there is no bar to draw."""
    if isinstance(value, Rate):
        if value.denominator == 0:
            return "no data", True
        if value.suppressed:
            return f"{SUPPRESSED}: fewer than 5", True
        return f"{value.numerator / value.denominator:.0%} ({value.numerator} of "  \
            f"{value.denominator})", False  # fmt: skip
    if value.count == 0:
        return "no data", True
    if value.suppressed:
        return f"{SUPPRESSED}: fewer than 5", True
    shown = value.shown()
    return (f"{shown:g} days" if shown != 1 else "1 day"), False


def bar_chart(table: Table, column: Column, chart_id: str) -> Chart:
    """One bar per group of `table` for the rate or median `column`."""
    values = [row.values[column.key] for row in table.rows]
    if column.kind == "rate":
        top = 1.0
        ticks = [(share, f"{share:.0%}") for share in (0, 0.25, 0.5, 0.75, 1)]
        axis_label = f"{column.label} (%)"
    else:
        largest = max((v for v in map(_value, values) if v is not None), default=0)
        top = _nice_ceiling(largest)
        ticks = [(top * part / 4, f"{top * part / 4:g}") for part in range(5)]
        axis_label = f"{column.label}"
    bars = []
    y = TOP
    for row, value in zip(table.rows, values, strict=True):
        lines = textwrap.wrap(row.label, LABEL_CHARS) or [row.label]
        label_lines = [(y + LABEL_LINE * (index + 1) - 4, line) for index, line in enumerate(lines)]
        bar_y = y + LABEL_LINE * len(lines) + 2
        text, missing = _value_text(value)
        share = 0.0 if missing else min(1.0, (_value(value) or 0) / top)
        inside = share >= INSIDE_FROM
        bars.append(
            Bar(
                lines=label_lines,
                y=bar_y,
                width=f"{share * 100:.2f}%",
                value_x=f"{share * 100:.2f}%",
                value_y=bar_y + BAR // 2 + 5,
                value_text=text,
                inside=inside,
                missing=missing,
            )
        )
        y = bar_y + BAR + GAP
    axis_y = y
    tick_marks = [
        Tick(
            x=f"{share / top * 100:.2f}%" if top else "0%",
            label=label,
            anchor="start" if index == 0 else "end" if index == len(ticks) - 1 else "middle",
        )
        for index, (share, label) in enumerate(ticks)
    ]
    return Chart(
        id=chart_id,
        title=f"{column.label} by {table.split_label.lower()}",
        description=_describe(table, column),
        axis_label=axis_label,
        group_label=table.split_label,
        bars=bars,
        ticks=tick_marks,
        height=axis_y + AXIS,
        axis_y=axis_y,
    )


def _describe(table: Table, column: Column) -> str:
    parts = [f"{row.label}: {_value_text(row.values[column.key])[0]}" for row in table.rows]
    return f"{len(parts)} bars. " + "; ".join(parts) + ". The table below has every figure."


def charts_for(table: Table) -> list[Chart]:
    if not table.rows:
        return []
    return [
        bar_chart(table, column, f"chart-{table.report}-{table.split}-{column.key}")
        for column in table.charted
    ]


def cell_text(value: Any) -> str:
    """A measure as the page's tables write it."""
    if isinstance(value, Rate):
        return value.percent_text()
    if isinstance(value, Median):
        return value.text()
    if isinstance(value, int):
        return "<5" if is_small(value) else f"{value:,}"
    return str(value)
