"""Small-number suppression: the disclosure control commissioners ask of published figures.

The rule, applied to every page, CSV and API answer (docs/reports.md):

1. A count from 1 to 4 is shown as "<5". Zero is shown as 0: it discloses nobody.
2. A rate is not shown ("suppressed") when any count it is made from is from 1 to 4: its
   numerator, its denominator, or what is left of the denominator (97 of 100 gives away
   the 3 who were not), or when its denominator is 0. A rate of 3% of 100 people would
   otherwise give the suppressed count of 3 straight back.
3. A median is not shown when fewer than five values make it.

Figures are computed exactly and suppressed only at the edge, when they are shown.
"""

from dataclasses import dataclass
from typing import Any

THRESHOLD = 5
SMALL = "<5"
SUPPRESSED = "suppressed"


def is_small(count: int | None) -> bool:
    return count is not None and 0 < count < THRESHOLD


def shown_count(count: int) -> int | str:
    """A count as it may be shown: the number, or "<5" for 1 to 4."""
    return SMALL if is_small(count) else count


@dataclass(frozen=True)
class Rate:
    """numerator / denominator, remembering both so the rule can be applied."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def suppressed(self) -> bool:
        return (
            self.denominator == 0
            or is_small(self.numerator)
            or is_small(self.denominator)
            or is_small(self.denominator - self.numerator)
        )

    def shown(self) -> float | None:
        """The rate (0 to 1, four decimals) or None when the rule hides it."""
        return None if self.suppressed else round(self.numerator / self.denominator, 4)

    def percent_text(self) -> str:
        if self.denominator == 0:
            return "no data"
        if self.suppressed:
            return SUPPRESSED
        return f"{self.numerator / self.denominator:.0%}"


@dataclass(frozen=True)
class Median:
    """A median of `count` values; hidden when fewer than five values make it."""

    value: float | None
    count: int

    @property
    def suppressed(self) -> bool:
        return self.value is None or is_small(self.count)

    def shown(self) -> float | None:
        return None if self.suppressed else round(float(self.value), 1)

    def text(self) -> str:
        if self.count == 0:
            return "no data"
        if self.suppressed:
            return SUPPRESSED
        value = float(self.value)
        return f"{value:g} days" if value != 1 else "1 day"


def shown(value: Any) -> Any:
    """Any measure as it may be shown in JSON or a CSV cell."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return shown_count(value)
    if isinstance(value, Rate | Median):
        return value.shown()
    return value
