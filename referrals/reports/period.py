"""The reporting period: whole London days, from one date to another, both included."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from clinics.domain import DomainError

# A longer range than this is refused: the monthly split would be unreadable and the
# queries would scan years of rows for one page.
MAX_DAYS = 5 * 366


class PeriodError(DomainError):
    """The dates asked for do not make a period we can report on."""

    code = "invalid_period"
    status_code = 400


def london() -> ZoneInfo:
    return ZoneInfo(settings.OUTREACH_TIME_ZONE)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date

    @classmethod
    def default(cls, today: date | None = None) -> "Period":
        """The last 12 months: this calendar month so far and the eleven before it."""
        today = today or timezone.localdate(timezone.now(), london())
        return cls(_add_months(today.replace(day=1), -11), today)

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date | None = None) -> "Period":
        """Read `from` and `to` (YYYY-MM-DD); a missing one takes its default."""
        default = cls.default(today)
        errors: dict[str, str] = {}
        days = {}
        for name, raw, fallback in (
            ("from", first, default.first_day),
            ("to", last, default.last_day),
        ):
            raw = (raw or "").strip()
            if not raw:
                days[name] = fallback
                continue
            try:
                days[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = "Enter a real date, for example 2026-04-01."
        if errors:
            raise PeriodError("The dates are not right: see fields.", fields=errors)
        period = cls(days["from"], days["to"])
        if period.last_day < period.first_day:
            raise PeriodError(
                "The end date must be the same as or after the start date.",
                fields={"to": "The end date must be the same as or after the start date."},
            )
        if (period.last_day - period.first_day).days >= MAX_DAYS:
            raise PeriodError(
                "Choose a period of five years or less.",
                fields={"from": "Choose a period of five years or less."},
            )
        return period

    @property
    def starts_at(self) -> datetime:
        """London midnight at the start of the first day, as an aware datetime."""
        return datetime.combine(self.first_day, time(0), london())

    @property
    def ends_at(self) -> datetime:
        """London midnight after the last day: the period is [starts_at, ends_at)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), london())

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        months = []
        month = self.first_day.replace(day=1)
        while month <= self.last_day:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def as_params(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}

    def __str__(self) -> str:
        return f"{self.first_day:%-d %B %Y} to {self.last_day:%-d %B %Y}"
