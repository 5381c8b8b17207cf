"""The three reports as aggregate queries: GROUP BY with conditional counts in the database.

Each report answers in a fixed number of queries whatever the size of the data: one grouped
query for the split and one for the total (and, on SQLite only, one more each for medians).
Every definition here is written out in docs/reports.md; change both together.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from clinics.models import Patient, ServiceType
from outreach.models import Booking, VisitOutcome
from referrals.models import Referral
from referrals.reports import access
from referrals.reports.median import (
    DaysBetween,
    PercentileMedian,
    medians_by_group,
    supports_percentile,
)
from referrals.reports.period import Period, london
from referrals.reports.splits import Split, splits_for
from referrals.reports.suppression import Median, Rate
from referrals.reports.tables import Column, Row, Table

BS = Booking.Status
SEEN = [BS.ARRIVED, BS.FULFILLED]
AHEAD = ~Q(source=Booking.Source.WALK_IN)


class UnknownReport(LookupError):
    pass


def _grouped(queryset: QuerySet, split: Split, kind: str, aggregates: dict[str, Any]) -> list:
    values = {"group": split.expression(kind)}
    name = split.name_field(kind)
    if name:
        values["group_name"] = F(name)
    return list(queryset.values(**values).annotate(**aggregates).order_by())


def _rows(
    grouped: list[dict[str, Any]],
    split: Split,
    build: Any,
    period: Period,
    extra: dict[Any, Any] | None = None,
) -> list[Row]:
    names = [k for k in (grouped[0] if grouped else {}) if k not in ("group", "group_name")]
    rows = []
    for found in grouped:
        key = split.normalise(found.pop("group"))
        label = split.labeller(key, found.pop("group_name", None))
        rows.append(Row(key, label, build(found, (extra or {}).get(key))))
    if split.key == "month" and grouped:
        # Every month of the period gets a row, so a trend shows its empty months too.
        zero = {name: 0 for name in names if name != "median"}
        present = {row.key for row in rows}
        rows += [
            Row(month, split.labeller(month, None), build(dict(zero)))
            for month in period.months()
            if month not in present
        ]
    return sorted(rows, key=_sort_key(split))


def _sort_key(split: Split) -> Any:
    def key(row: Row) -> Any:
        # Groups with no value (not recorded) go last; the rest in the split's own order.
        if row.key is None or row.key == "":
            return (1, "")
        if split.key in {"service", "venue", "destination"}:
            return (0, row.label.lower())
        return (0, split.order(row.key))

    return key


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    kind: str
    default_split: str
    columns: tuple[Column, ...]
    summary: str

    def splits(self) -> list[Split]:
        return splits_for(self.kind)

    def split(self, key: str | None) -> Split:
        key = key or self.default_split
        for split in self.splits():
            if split.key == key:
                return split
        raise UnknownReport(key)

    def table(self, user: Any, period: Period, split_key: str | None = None) -> Table:
        raise NotImplementedError


# --- Uptake and no-shows ------------------------------------------------------------------


class UptakeReport(Report):
    def queryset(self, user: Any, period: Period) -> QuerySet[Booking]:
        return (
            access.report_bookings_for(user)
            .filter(session__starts_at__gte=period.starts_at, session__starts_at__lt=period.ends_at)
            .exclude(status__in=[BS.CANCELLED, BS.ENTERED_IN_ERROR])
        )

    aggregates = {
        "booked": Count("pk", filter=AHEAD),
        "attended": Count("pk", filter=AHEAD & Q(status__in=SEEN)),
        "no_show": Count("pk", filter=AHEAD & Q(status=BS.NOSHOW)),
        "awaiting": Count("pk", filter=AHEAD & Q(status=BS.BOOKED)),
        "walk_ins": Count("pk", filter=Q(source=Booking.Source.WALK_IN, status__in=SEEN)),
    }

    @staticmethod
    def build(found: dict[str, Any], _extra: Any = None) -> dict[str, Any]:
        settled = found["attended"] + found["no_show"]
        return {
            **found,
            "uptake_rate": Rate(found["attended"], settled),
            "no_show_rate": Rate(found["no_show"], settled),
        }

    def table(self, user: Any, period: Period, split_key: str | None = None) -> Table:
        split = self.split(split_key)
        queryset = self.queryset(user, period)
        rows = _rows(
            _grouped(queryset, split, "booking", self.aggregates), split, self.build, period
        )
        total = Row(None, "All", self.build(queryset.aggregate(**self.aggregates)))
        return Table(
            self.name, self.title, split.key, split.label, period, list(self.columns), rows, total
        )


UPTAKE = UptakeReport(
    name="uptake",
    title="Uptake and no-shows",
    kind="booking",
    default_split="service",
    summary="Appointments booked ahead, how many were kept, and how many were missed.",
    columns=(
        Column("booked", "Appointments booked", help="Booked ahead; not cancelled."),
        Column("attended", "Attended"),
        Column("no_show", "Did not attend"),
        Column("awaiting", "Not yet due", help="The session has not happened or closed yet."),
        Column("walk_ins", "Walk-ins seen"),
        Column(
            "uptake_rate",
            "Uptake",
            kind="rate",
            charted=True,
            help="Attended as a share of appointments whose day has come (attended + did not "
            "attend).",
        ),
        Column(
            "no_show_rate",
            "No-show rate",
            kind="rate",
            charted=True,
            help="Did not attend as a share of attended + did not attend.",
        ),
    ),
)


# --- Referral conversion and time to first appointment ------------------------------------


def _first_appointment_date() -> Any:
    return Coalesce(
        TruncDate("appointment_at", tzinfo=london()), TruncDate("attended_at", tzinfo=london())
    )


def _days_to_first_appointment() -> Any:
    return DaysBetween(_first_appointment_date(), TruncDate("sent_at", tzinfo=london()))


DATED = Q(appointment_at__isnull=False) | Q(attended_at__isnull=False)


class ReferralReport(Report):
    def queryset(self, user: Any, period: Period) -> QuerySet[Referral]:
        return access.report_referrals_for(user).filter(
            sent_at__gte=period.starts_at, sent_at__lt=period.ends_at
        )

    def aggregates(self, queryset: QuerySet) -> dict[str, Any]:
        found = {
            "sent": Count("pk"),
            "booked": Count("pk", filter=DATED | Q(status=Referral.Status.BOOKED)),
            "attended": Count("pk", filter=Q(attended_at__isnull=False)),
            "dated": Count("pk", filter=DATED),
        }
        if supports_percentile(queryset):
            found["median"] = PercentileMedian(_days_to_first_appointment())
        return found

    @staticmethod
    def build(found: dict[str, Any], median: Any = None) -> dict[str, Any]:
        value = found.pop("median", median)
        dated = found.pop("dated")
        return {
            **found,
            "conversion_rate": Rate(found["attended"], found["sent"]),
            "with_date": dated,
            "median_days": Median(value, dated),
        }

    def table(self, user: Any, period: Period, split_key: str | None = None) -> Table:
        split = self.split(split_key)
        queryset = self.queryset(user, period)
        aggregates = self.aggregates(queryset)
        grouped = _grouped(queryset, split, "referral", aggregates)
        total_found = queryset.aggregate(**aggregates)
        medians: dict[Any, float] = {}
        total_median = total_found.get("median")
        if "median" not in aggregates:
            days = _days_to_first_appointment()
            medians = {
                split.normalise(key): value
                for key, value in medians_by_group(
                    queryset, split.expression("referral"), days
                ).items()
            }
            total_median = medians_by_group(queryset, Value(1), days).get(1)
        rows = _rows(grouped, split, self.build, period, medians)
        total = Row(None, "All", self.build(total_found, total_median))
        return Table(
            self.name, self.title, split.key, split.label, period, list(self.columns), rows, total
        )


REFERRALS = ReferralReport(
    name="referrals",
    title="Referral conversion and time to first appointment",
    kind="referral",
    default_split="destination",
    summary="Referrals sent, how many led to an appointment, and how long the first one took.",
    columns=(
        Column("sent", "Referrals sent"),
        Column("booked", "Booked", help="The destination gave an appointment."),
        Column("attended", "Attended"),
        Column(
            "conversion_rate",
            "Conversion",
            kind="rate",
            charted=True,
            help="Attended as a share of referrals sent.",
        ),
        Column("with_date", "With a first appointment date"),
        Column(
            "median_days",
            "Median days to first appointment",
            kind="median",
            charted=True,
            help="From the day it was sent to the day of the appointment it led to (London "
            "dates); the appointment date the destination gave, or else the day attended.",
        ),
    ),
)


# --- Screening coverage among eligible people seen ----------------------------------------

NOT_SCREENED_OUTCOMES = [
    VisitOutcome.Outcome.DECLINED,
    VisitOutcome.Outcome.NOT_ELIGIBLE,
    VisitOutcome.Outcome.UNABLE,
]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def age_between(on: date, minimum: int | None, maximum: int | None) -> Q:
    """People aged minimum..maximum (inclusive) on `on`, by date of birth or year of birth.

    Matches Patient.age_on: from the full date when we have it, else from the year alone.
    Someone whose age we do not know at all is not counted as eligible.
    """
    with_date = Q(date_of_birth__isnull=False)
    with_year = Q(date_of_birth__isnull=True, year_of_birth__isnull=False)
    if minimum is not None:
        with_date &= Q(date_of_birth__lte=_years_before(on, minimum))
        with_year &= Q(year_of_birth__lte=on.year - minimum)
    if maximum is not None:
        with_date &= Q(date_of_birth__gt=_years_before(on, maximum + 1))
        with_year &= Q(year_of_birth__gte=on.year - maximum)
    return with_date | with_year


# The same rule as ServiceType.eligibility_problem: asked, or else taken from sex.
HAS_CERVIX = Q(has_cervix=True) | Q(has_cervix__isnull=True, sex=Patient.Sex.FEMALE)


class ScreeningReport(Report):
    def service(self, code: str | None = None) -> ServiceType | None:
        services = ServiceType.objects.filter(requires_cervix=True).order_by("name")
        if code:
            return services.filter(code=code).first()
        return services.filter(is_active=True).first() or services.first()

    def queryset(self, user: Any, period: Period, service: ServiceType) -> QuerySet[Patient]:
        seen = access.report_bookings_for(user).filter(
            status__in=SEEN,
            session__starts_at__gte=period.starts_at,
            session__starts_at__lt=period.ends_at,
            patient=OuterRef("pk"),
        )
        screened = (
            seen.filter(service_type=service, status=BS.FULFILLED)
            .exclude(outcome__outcome__in=NOT_SCREENED_OUTCOMES)
            .values("pk")
        )
        most_deprived = seen.order_by(F("session__venue__imd_decile").asc(nulls_last=True)).values(
            "session__venue__imd_decile"
        )[:1]
        return (
            access.report_patients_for(user)
            .filter(Exists(seen.values("pk")))
            .filter(HAS_CERVIX, age_between(period.last_day, service.min_age_years,
                                            service.max_age_years))
            .annotate(was_screened=Exists(screened), seen_decile=Subquery(most_deprived))
        )  # fmt: skip

    aggregates = {
        "eligible": Count("pk"),
        "screened": Count("pk", filter=Q(was_screened=True)),
    }

    @staticmethod
    def build(found: dict[str, Any], _extra: Any = None) -> dict[str, Any]:
        return {**found, "coverage": Rate(found["screened"], found["eligible"])}

    def table(
        self, user: Any, period: Period, split_key: str | None = None, service_code: str = ""
    ) -> Table:
        split = self.split(split_key)
        service = self.service(service_code or None)
        empty = {"eligible": 0, "screened": 0}
        if service is None:
            rows: list[Row] = []
            total = Row(None, "All", self.build(empty))
            notes = ["No screening service is set up: add a service type for people with a cervix."]
        else:
            queryset = self.queryset(user, period, service)
            rows = _rows(
                _grouped(queryset, split, "patient", self.aggregates), split, self.build, period
            )
            total = Row(None, "All", self.build(queryset.aggregate(**self.aggregates)))
            ages = f"aged {service.min_age_years or 0}-{service.max_age_years or 'any'}"
            notes = [
                f"{service.name}: people with a cervix {ages} on {period.last_day:%-d %B %Y}, "
                "seen for anything in the period; screened means seen for "
                f"{service.name.lower()} in the period."
            ]
        return Table(
            self.name,
            self.title,
            split.key,
            split.label,
            period,
            list(self.columns),
            rows,
            total,
            notes,
        )


SCREENING = ScreeningReport(
    name="screening",
    title="Cervical screening coverage",
    kind="patient",
    default_split="ethnicity",
    summary="Of the eligible people seen for anything, how many were screened.",
    columns=(
        Column("eligible", "Eligible people seen"),
        Column("screened", "Screened"),
        Column(
            "coverage",
            "Coverage",
            kind="rate",
            charted=True,
            help="Screened as a share of eligible people seen.",
        ),
    ),
)

REPORTS: dict[str, Report] = {report.name: report for report in (UPTAKE, REFERRALS, SCREENING)}


def get_report(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None
