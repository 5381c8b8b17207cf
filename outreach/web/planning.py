"""What the session planner shows: a period, sessions grouped into rows, and clashes.

Kept apart from the views so the grouping and the clash sweep can be read (and tested) on
their own. Everything starts from the scoped querysets in outreach.permissions.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from outreach.models import Booking, OutreachSession, StaffAssignment
from outreach.permissions import bookings_for, sessions_for
from outreach.services.common import local_datetime, london

VIEWS = ("week", "month")
GROUPS = {"unit": "Mobile unit", "venue": "Venue", "staff": "Staff member"}


@dataclass(frozen=True)
class Period:
    """The days on screen: a Monday-to-Sunday week, or the whole weeks around a month."""

    view: str
    anchor: date
    first: date
    last: date

    @classmethod
    def around(cls, view: str, anchor: date) -> "Period":
        if view == "month":
            month_first = anchor.replace(day=1)
            month_last = anchor.replace(day=calendar.monthrange(anchor.year, anchor.month)[1])
            first = month_first - timedelta(days=month_first.weekday())
            last = month_last + timedelta(days=6 - month_last.weekday())
            return cls("month", month_first, first, last)
        first = anchor - timedelta(days=anchor.weekday())
        return cls("week", first, first, first + timedelta(days=6))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def weeks(self) -> list[list[date]]:
        days = self.days
        return [days[i : i + 7] for i in range(0, len(days), 7)]

    @property
    def previous(self) -> date:
        if self.view == "month":
            return (self.anchor - timedelta(days=1)).replace(day=1)
        return self.first - timedelta(days=7)

    @property
    def next(self) -> date:
        if self.view == "month":
            return (self.anchor + timedelta(days=32)).replace(day=1)
        return self.first + timedelta(days=7)

    @property
    def title(self) -> str:
        if self.view == "month":
            return f"{self.anchor:%B %Y}"
        return f"Week of {self.first.day} {self.first:%B %Y}"

    def in_month(self, day: date) -> bool:
        return self.view != "month" or day.month == self.anchor.month

    def bounds(self) -> tuple[datetime, datetime]:
        # London midnights, so a session late on Sunday belongs to that Sunday on both sides
        # of a clock change.
        return (
            local_datetime(self.first, time(0, 0)),
            local_datetime(self.last + timedelta(days=1), time(0, 0)),
        )


@dataclass
class Row:
    """One line of the planner: a bus, a venue or a member of staff, and their sessions."""

    key: str
    label: str
    sessions: list[OutreachSession] = field(default_factory=list)

    cells: list[dict[str, Any]] = field(default_factory=list)

    def lay_out(self, period: Period, today: date) -> None:
        """One cell per day on screen, each with that day's sessions, for the template."""
        by_day: dict[date, list[OutreachSession]] = defaultdict(list)
        for session in self.sessions:
            by_day[session.local_day].append(session)
        self.cells = [
            {
                "day": day,
                "sessions": by_day.get(day, []),
                "outside": not period.in_month(day),
                "today": day == today,
            }
            for day in period.days
        ]


def assignments_prefetch() -> Prefetch:
    """The rota of each session with the names it shows, in one query for all of them."""
    return Prefetch(
        "assignments",
        queryset=StaffAssignment.objects.select_related("staff__user").order_by(
            "staff__user__first_name", "staff__user__last_name", "staff_id"
        ),
    )


def booked_count(user: Any) -> Coalesce:
    """Active bookings of each session among those the user may see, as one subquery.

    Counted from the scoped bookings, so a sensitive booking hidden from the user is not a
    number on their planner either.
    """
    counted = (
        bookings_for(user)
        .filter(session=OuterRef("pk"), status__in=Booking.ACTIVE_STATUSES)
        .order_by()
        .values("session")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted), 0)


def planner_sessions(user: Any, period: Period) -> QuerySet[OutreachSession]:
    """The user's sessions in the period with everything a block shows, in a fixed few queries."""
    starts, ends = period.bounds()
    return (
        sessions_for(user)
        .filter(starts_at__lt=ends, ends_at__gt=starts)
        .select_related("venue", "mobile_unit", "series")
        .prefetch_related(assignments_prefetch(), "services")
        .annotate(booked_count=booked_count(user))
        .order_by("starts_at", "id")
    )


def staff_name(assignment: StaffAssignment) -> str:
    user = assignment.staff.user
    return user.get_full_name() or user.get_username()


def find_clashes(sessions: list[OutreachSession]) -> dict[int, list[str]]:
    """Sentences naming what each session overlaps: the same bus, or the same person.

    The database refuses such overlaps on PostgreSQL, so this mostly shows what an edit in
    progress (or data from before the constraints) would break; it is cheap enough to run on
    every page because the sessions are already in memory.
    """
    live = [s for s in sessions if s.status != OutreachSession.Status.CANCELLED]
    clashes: dict[int, list[str]] = defaultdict(list)
    by_unit: dict[int, list[OutreachSession]] = defaultdict(list)
    by_staff: dict[int, list[tuple[OutreachSession, str]]] = defaultdict(list)
    for session in live:
        if session.mobile_unit_id:
            by_unit[session.mobile_unit_id].append(session)
        for assignment in session.assignments.all():
            if assignment.is_live:
                by_staff[assignment.staff_id].append((session, staff_name(assignment)))
    for group in by_unit.values():
        for first, second in _overlapping(group):
            unit = first.mobile_unit.name
            clashes[first.pk].append(f"{unit} is also booked for {describe(second)}.")
            clashes[second.pk].append(f"{unit} is also booked for {describe(first)}.")
    for entries in by_staff.values():
        name = entries[0][1]
        for first, second in _overlapping([session for session, _ in entries]):
            clashes[first.pk].append(f"{name} is also working {describe(second)}.")
            clashes[second.pk].append(f"{name} is also working {describe(first)}.")
    return dict(clashes)


def _overlapping(sessions: list[OutreachSession]) -> list[tuple[OutreachSession, OutreachSession]]:
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.pk))
    pairs = []
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if second.starts_at >= first.ends_at:
                break
            pairs.append((first, second))
    return pairs


def describe(session: OutreachSession) -> str:
    start = session.starts_at.astimezone(london())
    end = session.ends_at.astimezone(london())
    return f"'{session.name}' on {start:%a %d %b} {start:%H:%M} to {end:%H:%M}"


def group_rows(sessions: list[OutreachSession], group: str) -> list[Row]:
    """Put each session on the rows it belongs to; a session with two nurses is on both."""
    rows: dict[str, Row] = {}
    unplaced = Row("none", _NONE_LABEL[group])
    for session in sessions:
        for key, label in _keys(session, group):
            rows.setdefault(key, Row(key, label)).sessions.append(session)
        if not _keys(session, group):
            unplaced.sessions.append(session)
    ordered = sorted(rows.values(), key=lambda row: row.label.lower())
    return [*ordered, unplaced] if unplaced.sessions else ordered


_NONE_LABEL = {
    "unit": "No mobile unit",
    "venue": "No venue",
    "staff": "No staff assigned",
}


def _keys(session: OutreachSession, group: str) -> list[tuple[str, str]]:
    if group == "unit":
        unit = session.mobile_unit
        return [(f"unit-{unit.pk}", unit.name)] if unit else []
    if group == "venue":
        return [(f"venue-{session.venue_id}", session.venue.name)]
    return [
        (f"staff-{a.staff_id}", staff_name(a))
        for a in session.assignments.all()
        if a.is_live or session.status == OutreachSession.Status.CANCELLED
    ]


def decorate(sessions: list[OutreachSession]) -> list[OutreachSession]:
    """Give each session its London day and times and its clash sentences, for the blocks."""
    clashes = find_clashes(sessions)
    zone = london()
    for session in sessions:
        start = session.starts_at.astimezone(zone)
        session.local_day = start.date()
        session.local_start = start
        session.local_end = session.ends_at.astimezone(zone)
        session.clashes = clashes.get(session.pk, [])
        session.staff_names = [staff_name(a) for a in session.assignments.all()]
    return sessions
