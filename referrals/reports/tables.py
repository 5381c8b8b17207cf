"""What a report answers: columns, one row per group and a total, before suppression."""

from dataclasses import dataclass, field
from typing import Any

from referrals.reports.period import Period
from referrals.reports.suppression import Median, Rate, shown


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # count, rate or median
    # The one measure charted for each split (a rate or a median reads best as bars).
    charted: bool = False
    help: str = ""


@dataclass
class Row:
    key: Any
    label: str
    values: dict[str, int | Rate | Median]

    def shown(self) -> dict[str, Any]:
        return {name: shown(value) for name, value in self.values.items()}


@dataclass
class Table:
    report: str
    title: str
    split: str
    split_label: str
    period: Period
    columns: list[Column]
    rows: list[Row]
    total: Row
    notes: list[str] = field(default_factory=list)

    @property
    def charted(self) -> list[Column]:
        return [column for column in self.columns if column.charted]

    def as_json(self) -> dict[str, Any]:
        """The table for the API: counts as numbers or "<5", rates 0-1 or null if hidden."""
        return {
            "report": self.report,
            "title": self.title,
            "split": self.split,
            "from": self.period.first_day.isoformat(),
            "to": self.period.last_day.isoformat(),
            "columns": [
                {"key": c.key, "label": c.label, "kind": c.kind, "help": c.help}
                for c in self.columns
            ],
            "rows": [
                {"key": _json_key(row.key), "label": row.label, **row.shown()} for row in self.rows
            ],
            "total": {"label": self.total.label, **self.total.shown()},
            "notes": self.notes,
        }


def _json_key(key: Any) -> Any:
    if hasattr(key, "isoformat"):
        return key.isoformat()
    return key
