"""The statements a booking runs on every request, written out in SQL.

Built by the ORM, each of these costs more Python to construct and compile than its round trip
to the database, and a booking runs them all while it holds the session's lock. Written once
here they cost a cursor call each. Every statement is plain SQL that PostgreSQL and SQLite both
run (the row locks are left out on SQLite, which has none and serialises writers anyway);
tables and columns come from the models' metadata, so a renamed field fails loudly here, and
nothing but those names and `%s` placeholders is ever put into the SQL text.

What they read is what the ORM versions read: the rules that use it (`availability`,
`booking_rules`) are unchanged, and the whole booking suite runs on both databases.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from clinics.models import ContactPoint, Patient, Venue
from outreach.models import Booking, MessageTemplate, OutreachSession

if TYPE_CHECKING:
    from outreach.availability import SessionBookings

M = TypeVar("M", bound=Model)


def _cursor() -> CursorWrapper:
    """A cursor for these statements: on PostgreSQL, one that prepares each statement.

    PostgreSQL then parses and plans a statement once per connection (the connection is kept
    for `CONN_MAX_AGE`) instead of on every booking; psycopg keeps the prepared statements
    by their text. The cursor binds parameters on the server, as preparing needs, and goes
    through Django's wrappers, so query capture and execute wrappers see its statements.
    `OUTREACH_PREPARED_STATEMENTS` turns this off (behind a pooler that cannot keep them).
    """
    return _cursors(1)[0]


def _cursors(count: int) -> list[CursorWrapper]:
    """`count` cursors as `_cursor` makes them, for statements sent together."""
    if connection.vendor != "postgresql" or not settings.OUTREACH_PREPARED_STATEMENTS:
        return [connection.cursor() for _ in range(count)]
    from outreach.prepared import prepared_cursors

    return prepared_cursors(connection, count)


_STATEMENTS: dict[tuple[Hashable, ...], Any] = {}


def _statement(key: tuple[Hashable, ...], build: Callable[[], Any]) -> Any:
    """What `build()` makes for `key` on this database: each statement's text is built once.

    The text depends on the database only (its quoting, its row locks), so it is kept by the
    vendor and `key`; building it costs more than running it.
    """
    key = (connection.vendor, *key)
    try:
        return _STATEMENTS[key]
    except KeyError:
        made = _STATEMENTS[key] = build()
        return made


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _for_update(of: str = "") -> str:
    """The row lock clause, on the rows of table alias `of` only when given; none on SQLite."""
    if not connection.features.has_select_for_update:
        return ""
    if of and connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {of}"
    return " FOR UPDATE"


def db_datetime(value: datetime) -> Any:
    """A datetime as this database's driver takes it (UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value: Any) -> datetime:
    """A datetime read by a raw statement, made aware (SQLite hands back naive UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _total_seconds(start: str, end: str) -> str:
    """SQL for the seconds from `start` to `end` (two timestamp columns) summed over a group.

    On PostgreSQL the intervals are summed and turned into seconds once: `EXTRACT` gives a
    numeric, and summing a numeric per row costs twice as much as summing the intervals.
    """
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM SUM({end} - {start}))"
    return f"SUM((julianday({end}) - julianday({start})) * 86400.0)"


_ACTIVE = tuple(Booking.ACTIVE_STATUSES)
# The statuses in which a booking holds its time: the patient exclusion constraint's.
_LIVE = (Booking.Status.BOOKED, Booking.Status.ARRIVED)


def _literals(values: Sequence[str]) -> str:
    """Fixed codes (statuses, sources) written into a statement's text, not bound.

    With the codes bound as parameters, PostgreSQL cannot tell that a prepared statement's
    generic plan meets a partial index's condition (`status IN ('booked', ...)`), costs the
    generic plan higher, and plans the statement afresh on every run: for the session's
    bookings, 0.2 ms of planning on every booking (of the read's 0.5 ms). Written in, the
    generic plan is chosen after the first few runs. Only the model's own codes come here.
    """
    for value in values:
        if not re.fullmatch(r"[a-z_-]+", value):
            raise ValueError(f"Not a code: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


_ACTIVE_IN = _literals(_ACTIVE)
_LIVE_IN = _literals(_LIVE)
_WALK_IN = _literals([Booking.Source.WALK_IN])


def _lock_session_sql(fields: Sequence[str], with_templates: bool) -> tuple[str, list[str]]:
    # In the model's field order, the order `from_db` takes values in.
    wanted = {OutreachSession._meta.get_field("id" if name == "pk" else name) for name in fields}
    chosen = [field for field in OutreachSession._meta.concrete_fields if field in wanted]
    session_table, venue_table = _table(OutreachSession), _table(Venue)
    through = OutreachSession.services.through
    columns = ", ".join(f"s.{connection.ops.quote_name(field.column)}" for field in chosen)
    templates, joins = "", ""
    if with_templates:
        # One active template at most per purpose, channel and discretion (a constraint), so
        # each join adds one row's columns or NULLs; only the session row is locked.
        purpose, channel, discreet, active = (
            _column(MessageTemplate, name)
            for name in ("purpose", "channel", "discreet", "is_active")
        )
        for n, _ in enumerate(_CHANNELS):
            alias = f"t{n}"
            templates += ", " + ", ".join(
                f"{alias}.{column}" for column in _columns(MessageTemplate).split(", ")
            )
            joins += (
                f" LEFT JOIN {_table(MessageTemplate)} {alias} ON {alias}.{purpose} = %s"
                f" AND {alias}.{channel} = %s AND {alias}.{discreet} = %s"
                f" AND {alias}.{active} = %s"
            )
    sql = (
        f"SELECT {columns}, v.{_column(Venue, 'name')}, EXISTS("  # noqa: S608  # nosec B608
        f"SELECT 1 FROM {_table(through)} o WHERE o.{_column(through, 'outreachsession')} = s.id"
        f" AND o.{_column(through, 'servicetype')} = %s){templates}"
        f" FROM {session_table} s JOIN {venue_table} v"
        f" ON v.id = s.{_column(OutreachSession, 'venue')}{joins}"
        f" WHERE s.id = %s{_for_update('s')}"
    )
    return sql, [field.attname for field in chosen]


_CHANNELS = tuple(ContactPoint.Channel.values)


def _lock_session_query(
    pk: Any, fields: Sequence[str], service_id: int, templates: tuple[str, bool] | None
) -> tuple[str, list[Any], list[str]]:
    sql, attnames = _statement(
        ("lock_session", tuple(fields), templates is not None),
        lambda: _lock_session_sql(fields, templates is not None),
    )
    params: list[Any] = [service_id]
    if templates is not None:
        purpose, discreet = templates
        for channel in _CHANNELS:
            params += [purpose, channel, discreet, True]
    params.append(pk)
    return sql, params, attnames


def _locked_session(
    row: Sequence[Any] | None, attnames: list[str], templates: tuple[str, bool] | None
) -> OutreachSession | None:
    if row is None:
        return None
    width = len(attnames)
    values, (venue_name, offered) = row[:width], row[width : width + 2]
    session = OutreachSession.from_db(connection.alias, attnames, values)
    for name in ("starts_at", "ends_at"):
        if name in attnames:
            setattr(session, name, aware(getattr(session, name)))
    venue = Venue.from_db(connection.alias, ["id", "name"], [session.venue_id, venue_name])
    OutreachSession.venue.field.set_cached_value(session, venue)
    session.offers_service = bool(offered)
    if templates is not None:
        template_width = len(MessageTemplate._meta.concrete_fields)
        found: dict[str, MessageTemplate | None] = {}
        for n, channel in enumerate(_CHANNELS):
            begin = width + 2 + n * template_width
            columns = row[begin : begin + template_width]
            found[channel] = None if columns[0] is None else _make(MessageTemplate, columns)
        session.known_templates = {templates: found}  # type: ignore[attr-defined]
    return session


def lock_session(
    pk: Any,
    fields: Sequence[str],
    service_id: int,
    *,
    templates: tuple[str, bool] | None = None,
) -> OutreachSession | None:
    """The session `pk`, locked, with `fields`, its venue's name and whether it offers the service.

    `offers_service` is set on the returned session; None if there is no such session. With
    `templates`, a purpose and a discretion, the active templates for them come in the same
    statement, by channel (None where there is none), as `known_templates[templates]`: a
    booking's reminders are worded from them.
    """
    sql, params, attnames = _lock_session_query(pk, fields, service_id, templates)
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _locked_session(row, attnames, templates)


def _columns(model: type[Model]) -> str:
    """Every concrete column of `model`, in the order `_read_one` takes them."""
    return ", ".join(
        connection.ops.quote_name(field.column) for field in model._meta.concrete_fields
    )


def _read_all(model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    """The rows `sql` selects (every column, as `_columns` lists them) as `model`s.

    Made as the ORM makes them: datetimes aware, booleans bools (SQLite hands back 0 and 1).
    """
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return [_make(model, row) for row in cursor.fetchall()]


_SHAPES: dict[type[Model], tuple[list[str], tuple[int, ...], tuple[int, ...]]] = {}


def _shape(model: type[Model]) -> tuple[list[str], tuple[int, ...], tuple[int, ...]]:
    """A model's column names, and which of them are datetimes and booleans: found once."""
    try:
        return _SHAPES[model]
    except KeyError:
        fields = model._meta.concrete_fields
        kinds = [field.get_internal_type() for field in fields]
        found = _SHAPES[model] = (
            [field.attname for field in fields],
            tuple(n for n, kind in enumerate(kinds) if kind == "DateTimeField"),
            tuple(n for n, kind in enumerate(kinds) if kind == "BooleanField"),
        )
        return found


def _make(model: type[M], row: Sequence[Any]) -> M:
    """A `model` from its columns' values, as `_columns` lists them, made as the ORM makes it."""
    names, moments, flags = _shape(model)
    values = list(row)
    for index in moments:
        if values[index] is not None:
            values[index] = aware(values[index])
    for index in flags:
        if values[index] is not None:
            values[index] = bool(values[index])
    return model.from_db(connection.alias, names, values)


def _read_one(model: type[M], sql: str, params: Sequence[Any]) -> M | None:
    """The row `sql` selects, as `_read_all` makes it, or None."""
    found = _read_all(model, sql, params)
    return found[0] if found else None


def _lock_patient_sql() -> str:
    def build() -> str:
        patient, preferred, channel = (
            _column(ContactPoint, name) for name in ("patient", "is_preferred", "channel")
        )
        people = ", ".join(f"p.{column}" for column in _columns(Patient).split(", "))
        points = ", ".join(f"c.{column}" for column in _columns(ContactPoint).split(", "))
        return (
            f"SELECT {people}, {points} FROM {_table(Patient)} p"  # noqa: S608  # nosec B608
            f" LEFT JOIN {_table(ContactPoint)} c ON c.{patient} = p.id WHERE p.id = %s"
            f" ORDER BY c.{preferred} DESC, c.{channel}, c.id{_for_update('p')}"
        )

    return _statement(("lock_patient",), build)


def _locked_patient(rows: Sequence[Sequence[Any]]) -> Patient | None:
    if not rows:
        return None
    width = len(Patient._meta.concrete_fields)
    found = _make(Patient, rows[0][:width])
    found.known_contact_points = [  # type: ignore[attr-defined]
        _make(ContactPoint, row[width:]) for row in rows if row[width] is not None
    ]
    return found


def lock_patient(pk: Any) -> Patient | None:
    """The patient `pk`, every field read, locked; None if there is no such patient.

    The patient's contact points come in the same statement (for the reminders of a booking
    made under this lock), in the model's order, as `known_contact_points`.
    """
    with _cursor() as cursor:
        cursor.execute(_lock_patient_sql(), [pk])
        return _locked_patient(cursor.fetchall())


def contact_points(patient_id: int) -> list[ContactPoint]:
    """The patient's contact points, in the model's order: the reminders' addresses."""

    def build() -> str:
        patient, preferred, channel = (
            _column(ContactPoint, name) for name in ("patient", "is_preferred", "channel")
        )
        return (
            f"SELECT {_columns(ContactPoint)} FROM {_table(ContactPoint)}"  # noqa: S608  # nosec B608
            f" WHERE {patient} = %s ORDER BY {preferred} DESC, {channel}, id"
        )

    return _read_all(ContactPoint, _statement(("contact_points",), build), [patient_id])


def appointment_seconds(session_ids: Sequence[int]) -> dict[int, float]:
    """Seconds booked ahead in each session by its active bookings (walk-ins not counted)."""
    if not session_ids:
        return {}

    def build() -> str:
        session, status, source = (
            _column(Booking, name) for name in ("session", "status", "source")
        )
        seconds = _total_seconds(_column(Booking, "starts_at"), _column(Booking, "ends_at"))
        return (
            f"SELECT {session}, {seconds} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
            f" WHERE {session} IN ({_placeholders(session_ids)})"
            f" AND {status} IN ({_ACTIVE_IN}) AND {source} <> {_WALK_IN}"
            f" GROUP BY {session}"
        )

    sql = _statement(("appointment_seconds", len(session_ids)), build)
    with _cursor() as cursor:
        cursor.execute(sql, list(session_ids))
        return {session_id: float(seconds) for session_id, seconds in cursor.fetchall()}


def lane_bookings(
    session_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, dict[int, list[tuple[datetime, datetime]]]]:
    """Active bookings holding a lane and overlapping [start, end), by session and lane."""
    found: dict[int, dict[int, list[tuple[datetime, datetime]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    if not session_ids:
        return found

    def build() -> str:
        session, status, lane, starts_at, ends_at = (
            _column(Booking, name) for name in ("session", "status", "lane", "starts_at", "ends_at")
        )
        return (
            f"SELECT {session}, {lane}, {starts_at}, {ends_at} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
            f" WHERE {session} IN ({_placeholders(session_ids)})"
            f" AND {status} IN ({_ACTIVE_IN}) AND {lane} IS NOT NULL"
            f" AND {starts_at} < %s AND {ends_at} > %s"
        )

    sql = _statement(("lane_bookings", len(session_ids)), build)
    with _cursor() as cursor:
        cursor.execute(sql, [*session_ids, db_datetime(end), db_datetime(start)])
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        # PostgreSQL's driver hands back aware datetimes; SQLite's, naive UTC.
        rows = [(session, n, aware(begins), aware(ends)) for session, n, begins, ends in rows]
    for session_id, lane_number, booked_from, booked_to in rows:
        found[session_id][lane_number].append((booked_from, booked_to))
    return found


def _session_bookings_query(session_id: int, patient_id: int | None) -> tuple[str, list[Any]]:
    """The statement `session_bookings` runs; with `patient_id`, the patient's bookings are
    those that could clash with a slot within the session's hours."""

    def build() -> str:
        lane, starts_at, ends_at, source, session, status, person = (
            _column(Booking, name)
            for name in ("lane", "starts_at", "ends_at", "source", "session", "status", "patient")
        )
        sql = (
            f"SELECT 0, {lane}, {starts_at}, {ends_at}, {source} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
            f" WHERE {session} = %s AND {status} IN ({_ACTIVE_IN})"
        )
        if patient_id is None:
            return sql
        hours = _table(OutreachSession)
        session_start, session_end = (
            _column(OutreachSession, name) for name in ("starts_at", "ends_at")
        )
        before = f"(SELECT {session_end} FROM {hours} WHERE id = %s)"  # noqa: S608  # nosec B608
        after = f"(SELECT {session_start} FROM {hours} WHERE id = %s)"  # noqa: S608  # nosec B608
        return (
            f"{sql} UNION ALL SELECT 1, {session}, {starts_at}, {ends_at}, {status}"  # noqa: S608  # nosec B608
            f" FROM {_table(Booking)} WHERE {person} = %s"
            f" AND {status} IN ({_ACTIVE_IN}) AND ({session} = %s"
            f" OR ({status} IN ({_LIVE_IN}) AND {starts_at} < {before}"
            f" AND {ends_at} > {after}))"
        )

    params: list[Any] = [session_id]
    if patient_id is not None:
        params += [patient_id, session_id, session_id, session_id]
    return _statement(("session_bookings", patient_id is not None), build), params


def _session_bookings_from(
    session_id: int, rows: list[Any], with_patient: bool
) -> "SessionBookings":
    from outreach.availability import PatientBooking, SessionBookings

    if connection.vendor != "postgresql":
        # PostgreSQL's driver hands back aware datetimes; SQLite's, naive UTC.
        rows = [
            (kind, n, aware(begins), aware(ends), label) for kind, n, begins, ends, label in rows
        ]
    # A few hundred rows: this loop is kept to builtins.
    walk_in = Booking.Source.WALK_IN.value
    seconds = 0.0
    by_lane: dict[int, list[tuple[datetime, datetime]]] = {}
    theirs: list[PatientBooking] = []
    for kind, number, booked_from, booked_to, label in rows:
        if kind:
            theirs.append(PatientBooking(number, label, booked_from, booked_to))
            continue
        if label != walk_in:
            seconds += (booked_to - booked_from).total_seconds()
        if number is not None:
            held = by_lane.get(number)
            if held is None:
                by_lane[number] = [(booked_from, booked_to)]
            else:
                held.append((booked_from, booked_to))
    return SessionBookings(session_id, seconds, by_lane, tuple(theirs) if with_patient else None)


def session_bookings(session_id: int, *, patient_id: int | None = None) -> "SessionBookings":
    """Every active booking of one session, read once: its booked time and its lanes' bookings.

    What `appointment_seconds` and `lane_bookings` read, in one statement: a booking reads it
    right after it locks the session (a session holds a few hundred bookings at most).

    With `patient_id`, the same statement reads the bookings of that patient that
    `patient_clashes` could find for a slot within the session's hours: the active ones in
    this session and the booked or arrived ones overlapping those hours. A booking reads them
    under the patient's lock too (`lock_for_booking`), and checks its slot against them
    (`patient_bookings`).
    """
    sql, params = _session_bookings_query(session_id, patient_id)
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _session_bookings_from(session_id, rows, patient_id is not None)


class BookingLocks(NamedTuple):
    """What a booking reads under its locks, from `lock_for_booking`."""

    session: OutreachSession | None
    patient: Patient | None
    bookings: "SessionBookings"


@contextmanager
def _pipeline() -> Iterator[None]:
    """On PostgreSQL, the statements run within are sent together, without waiting for each
    answer in turn: their results are read when first fetched. Elsewhere, nothing changes.

    The server still runs them one after another, in the order given; an error in one is
    raised when its results (or a later statement's) are fetched, and the rest are skipped.
    """
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def lock_for_booking(
    session_id: int,
    fields: Sequence[str],
    service_id: int,
    *,
    templates: tuple[str, bool] | None,
    patient_id: int,
) -> BookingLocks:
    """`lock_session`, then `lock_patient`, then `session_bookings`, in one round trip.

    The locks are taken in that order, session first, as when the three run one by one. The
    patient's bookings read are those that could clash with a slot within the session's
    hours, as `session_bookings(patient_id=)` reads them. Whatever a check
    then refuses, the caller's transaction rolls back and lets go of both locks.
    """
    session_sql, session_params, attnames = _lock_session_query(
        session_id, fields, service_id, templates
    )
    bookings_sql, bookings_params = _session_bookings_query(session_id, patient_id)
    first, second, third = _cursors(3)
    with _pipeline(), first, second, third:
        first.execute(session_sql, session_params)
        second.execute(_lock_patient_sql(), [patient_id])
        third.execute(bookings_sql, bookings_params)
        session_row = first.fetchone()
        patient_rows = second.fetchall()
        booking_rows = third.fetchall()
    return BookingLocks(
        _locked_session(session_row, attnames, templates),
        _locked_patient(patient_rows),
        _session_bookings_from(session_id, booking_rows, True),
    )


def patient_clashes(
    patient_id: int, session_id: int, starts_at: datetime, ends_at: datetime
) -> list[int]:
    """Sessions of up to two active bookings of the patient that a new one would clash with.

    Any active booking in the same session, or a booked or arrived one overlapping the time:
    the checks the exclusion constraints make.
    """

    def build() -> str:
        patient, session, status = (
            _column(Booking, name) for name in ("patient", "session", "status")
        )
        start, end = _column(Booking, "starts_at"), _column(Booking, "ends_at")
        return (
            f"SELECT {session} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
            f" WHERE {patient} = %s AND {status} IN ({_ACTIVE_IN})"
            f" AND ({session} = %s OR ({status} IN ({_LIVE_IN})"
            f" AND {start} < %s AND {end} > %s)) LIMIT 2"
        )

    sql = _statement(("patient_clashes",), build)
    params = [patient_id, session_id, db_datetime(ends_at), db_datetime(starts_at)]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def active_template(purpose: str, channel: str, *, discreet: bool) -> MessageTemplate | None:
    """The active template for a purpose, channel and discretion; None if there is none.

    A constraint allows one at most. Every booking reads it for its reminders' wording while
    it holds the session's lock.
    """

    def build() -> str:
        purpose_, channel_, discreet_, active = (
            _column(MessageTemplate, name)
            for name in ("purpose", "channel", "discreet", "is_active")
        )
        return (
            f"SELECT {_columns(MessageTemplate)} FROM {_table(MessageTemplate)}"  # noqa: S608  # nosec B608
            f" WHERE {purpose_} = %s AND {channel_} = %s AND {discreet_} = %s AND {active} = %s"
        )

    sql = _statement(("active_template",), build)
    return _read_one(MessageTemplate, sql, [purpose, channel, discreet, True])


def units_from_seconds(seconds: float, slot_minutes: int) -> int:
    """Whole slots taken by `seconds` of bookings (a part slot counts as a slot).

    Rounded to the millisecond first: SQLite's day fractions are not exact.
    """
    return ceil(round(seconds, 3) / timedelta(minutes=slot_minutes).total_seconds() - 1e-9)


def insert_rows(objs: Sequence[Model]) -> None:
    """Insert new rows of one model in one statement and set their ids, as `bulk_create` does.

    Each field's value is what the ORM would write (`pre_save`, then `get_db_prep_save`), so
    defaults and `auto_now` apply; like `bulk_create`, no `save()` runs and no signal is sent.
    A database that cannot return the ids of a multi-row insert gets `bulk_create` itself.
    """
    if not objs:
        return
    model = type(objs[0])
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    fields = _writable(model)

    def build() -> str:
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        row = f"({_placeholders(fields)})"
        return (
            f"INSERT INTO {_table(model)} ({columns})"  # noqa: S608  # nosec B608
            f" VALUES {', '.join([row] * len(objs))}"
            f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
        )

    sql = _statement(("insert", meta.label, len(objs)), build)
    params = [value for obj in objs for value in _db_values(fields, obj)]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    # Both databases return the rows of a multi-row VALUES insert in the order given.
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


_HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user")

# In a text field named in `insert_with_history`'s `named`, this stands for the new row's id.
NEW_ID = "{new_id}"


class _Fields(tuple):
    """Fields of a model to write, with what `_db_values` needs of each, found once."""

    plains: tuple[tuple[type, Any] | None, ...]


def _fields_to_write(fields: Sequence[Any]) -> _Fields:
    found = _Fields(fields)
    found.plains = tuple(_plain_type(field) for field in fields)
    return found


def _writable(model: type[Model], *, leaving: str = "") -> _Fields:
    """The concrete fields of `model` an insert gives values for (no id, nor `leaving`)."""
    meta = model._meta

    def build() -> _Fields:
        left = meta.get_field(leaving) if leaving else None
        return _fields_to_write(
            [field for field in meta.concrete_fields if field not in (meta.auto_field, left)]
        )

    return _statement(("writable", meta.label, leaving), build)


def _insert_both_sql(
    model: type[Model],
    history_model: type[Model],
    dependent: type[Model] | None,
    link: str,
    named: tuple[str, ...],
    varying: tuple[int, ...],
    count: int,
) -> str:
    meta, history_meta = model._meta, history_model._meta
    fields = _writable(model)
    tracked = history_model.tracked_fields  # type: ignore[attr-defined]
    extra = [history_meta.get_field(name) for name in _HISTORY_FIELDS]
    quote = connection.ops.quote_name
    pk = f"new.{quote(meta.pk.column)}"
    columns = ", ".join(quote(field.column) for field in fields)
    copied = ", ".join(f"new.{quote(field.column)}" for field in tracked)
    history_columns = [history_meta.get_field(field.attname).column for field in tracked]
    history_columns += [field.column for field in extra]
    sql = (
        f"WITH new AS (INSERT INTO {_table(model)} ({columns})"  # noqa: S608  # nosec B608
        f" VALUES ({_placeholders(fields)})"
        f" RETURNING {', '.join(quote(field.column) for field in tracked)}),"
        f" history AS (INSERT INTO {_table(history_model)}"
        f" ({', '.join(map(quote, history_columns))})"
        f" SELECT {copied}, {_placeholders(extra)} FROM new)"
    )
    if dependent is None:
        return f"{sql} SELECT {pk}, NULL FROM new"  # noqa: S608  # nosec B608
    # A value all the dependent rows share is given once; the columns whose values differ
    # (`varying`) come as one array each, unnested into the rows (as Django's own bulk insert
    # sends them on PostgreSQL). Either way one statement text fits any number of rows, and
    # few parameters. The link to the new row, and NEW_ID in the named columns, are filled in
    # from the new row's id.
    given = _writable(dependent, leaving=link)
    dependent_meta = dependent._meta
    link_field = dependent_meta.get_field(link)
    written, values, arrays, aliases = [], [], [], []
    for field in dependent_meta.concrete_fields:
        if field is dependent_meta.auto_field:
            continue
        written.append(quote(field.column))
        if field is link_field:
            values.append(pk)
            continue
        index = given.index(field)
        db_type = field.db_type(connection)
        if index in varying:
            value = f"d.c{index}"
            arrays.append(f"CAST(%s AS {db_type.split('(')[0]}[])")
            aliases.append(f"c{index}")
        else:
            value = f"CAST(%s AS {db_type})"
        if field.name in named:
            value = f"REPLACE({value}, '{NEW_ID}', CAST({pk} AS text))"
        values.append(value)
    if arrays:
        rows = f"UNNEST({', '.join(arrays)}) AS d({', '.join(aliases)})"
    else:
        rows = f"generate_series(1, {int(count)}) AS d(n)"
    dependent_pk = quote(dependent_meta.pk.column)
    return (
        f"{sql}, dependents AS (INSERT INTO {_table(dependent)} ({', '.join(written)})"  # noqa: S608  # nosec B608
        f" SELECT {', '.join(values)} FROM new, {rows} RETURNING {dependent_pk})"
        # Ids are drawn in the order the rows are inserted, which is the arrays' order.
        f" SELECT {pk}, ARRAY(SELECT {dependent_pk} FROM dependents ORDER BY {dependent_pk})"
        f" FROM new"
    )


# The Python type a field's value has when the driver takes it unchanged: its own preparation
# (`get_db_prep_save`) would return it as it is, so it is skipped (it costs a dozen calls).
_PLAIN = {
    "CharField": str,
    "TextField": str,
    "BooleanField": bool,
    "IntegerField": int,
    "SmallIntegerField": int,
    "BigIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "PositiveBigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
    "SmallAutoField": int,
    # An aware datetime, on PostgreSQL only (SQLite's driver is given text).
    "DateTimeField": datetime,
}


def _plain_type(field: Any) -> tuple[type, Any] | None:
    """The plain Python type of `field`'s values here and what wraps one for the driver."""
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    plain = _PLAIN.get(kind)
    if plain is datetime and connection.vendor != "postgresql":
        return None
    if plain is None:
        return None
    # On PostgreSQL Django sizes integers for the driver (`Int2`, `Int4`, `Int8`).
    return plain, getattr(connection.ops, "integerfield_type_map", {}).get(kind)


def _db_values(fields: _Fields, obj: Model) -> list[Any]:
    """The values `obj`'s `fields` are written with: `pre_save`, then `get_db_prep_save`.

    For a field of a plain kind (text, integer, boolean, a key to an integer id, a datetime on
    PostgreSQL), None or a value of exactly the kind's Python type (an aware datetime) comes
    out of that preparation as it went in (an integer sized as Django sizes it), so the
    preparation's dozen calls are skipped.
    """
    values = []
    for field, plain in zip(fields, fields.plains, strict=True):
        value = field.pre_save(obj, True)
        if plain is None:
            values.append(field.get_db_prep_save(value, connection))
            continue
        kind, sized = plain
        if value is None:
            values.append(value)
        elif type(value) is not kind or (kind is datetime and value.tzinfo is None):
            values.append(field.get_db_prep_save(value, connection))
        elif sized is not None:
            values.append(sized(value))
        else:
            values.append(value)
    return values


def _insert_both(
    obj: Model,
    history_model: type[Model],
    *,
    history_date: datetime,
    user: Any,
    reason: str,
    dependents: Sequence[Model],
    link: str,
    named: tuple[str, ...],
) -> None:
    """The row, its history row and its dependents in one statement (a data-modifying WITH)."""
    model = type(obj)
    params = _db_values(_writable(model), obj)
    extra = _statement(
        ("history_extra", history_model._meta.label),
        lambda: [history_model._meta.get_field(name) for name in _HISTORY_FIELDS],
    )
    user_id = getattr(user, "pk", user)
    for field, value in zip(extra, (history_date, reason, "+", user_id), strict=True):
        params.append(field.get_db_prep_save(value, connection))
    dependent = type(dependents[0]) if dependents else None
    varying: tuple[int, ...] = ()
    if dependent is not None:
        rows = [_db_values(_writable(dependent, leaving=link), row) for row in dependents]
        first = rows[0]
        varying = tuple(
            index
            for index, value in enumerate(first)
            if any(row[index] != value for row in rows[1:])
        )
        params += [value for index, value in enumerate(first) if index not in varying]
        params += [[row[index] for row in rows] for index in varying]
    count = len(dependents) if not varying else 0
    key = ("insert_both", model._meta.label, dependent, link, named, varying, count)
    sql = _statement(
        key,
        lambda: _insert_both_sql(model, history_model, dependent, link, named, varying, count),
    )
    with _cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk, dependent_ids = cursor.fetchone()
    obj._state.adding = False
    obj._state.db = connection.alias
    for row, pk in zip(dependents, dependent_ids or [], strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
    _linked(obj, dependents, link, named)


def _linked(obj: Model, dependents: Sequence[Model], link: str, named: tuple[str, ...]) -> None:
    """Point `dependents` at the saved `obj`, NEW_ID in their `named` fields made its id."""
    for row in dependents:
        setattr(row, link, obj)
        for name in named:
            setattr(row, name, getattr(row, name).replace(NEW_ID, str(obj.pk)))


_HISTORY_MODELS: dict[type[Model], type[Model]] = {}


def history_model_of(model: type[Model]) -> type[Model]:
    """The simple-history model of `model`, found once.

    `model.history` builds a manager class every time it is read (simple-history's
    descriptor calls `from_queryset`), which costs more than the insert it is wanted for.
    """
    try:
        return _HISTORY_MODELS[model]
    except KeyError:
        manager = getattr(model, model._meta.simple_history_manager_attribute)
        found = _HISTORY_MODELS[model] = manager.model
        return found


def insert_with_history(
    obj: Model,
    *,
    user: Any,
    reason: str,
    dependents: Sequence[Model] = (),
    link: str = "",
    named: tuple[str, ...] = (),
) -> None:
    """Insert a new `obj` and its simple-history "created" row, as `obj.save()` would.

    The row, then the history row `HistoricalRecords.create_historical_record` would make
    (the same tracked fields, date, user and reason, and its two signals), without the save's
    model machinery. On PostgreSQL, when nothing listens to those two signals, both rows go in
    one statement: the history row is copied from what the insert returns. It sends no
    `pre_save` or `post_save`, so it is only for models whose only `post_save` receiver is
    their history (a test holds booking to that).

    `dependents` are new rows of one model that point at `obj` by their foreign key `link`
    (a booking's reminders): they are inserted after it, as `insert_rows` inserts, in the same
    statement on PostgreSQL. In their `named` text fields, `NEW_ID` becomes `obj`'s id (a
    reminder's idempotency key names its booking).
    """
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        insert_rows([obj])
        _insert_dependents(obj, dependents, link, named)
        return
    history_model = history_model_of(type(obj))
    history_date = getattr(obj, "_history_date", None) or timezone.now()
    if connection.vendor == "postgresql" and not (
        pre_create_historical_record.has_listeners(history_model)
        or post_create_historical_record.has_listeners(history_model)
    ):
        _insert_both(
            obj,
            history_model,
            history_date=history_date,
            user=user,
            reason=reason,
            dependents=dependents,
            link=link,
            named=named,
        )
        return
    insert_rows([obj])
    history = history_model(
        history_date=history_date,
        history_type="+",
        history_user=user,
        history_change_reason=reason,
        **{field.attname: getattr(obj, field.attname) for field in history_model.tracked_fields},
    )
    signal_args = {
        "sender": history_model,
        "instance": obj,
        "history_instance": history,
        "history_date": history_date,
        "history_user": user,
        "history_change_reason": reason,
        "using": None,
    }
    pre_create_historical_record.send(**signal_args)
    insert_rows([history])
    post_create_historical_record.send(**signal_args)
    _insert_dependents(obj, dependents, link, named)


def _insert_dependents(
    obj: Model, dependents: Sequence[Model], link: str, named: tuple[str, ...]
) -> None:
    if dependents:
        _linked(obj, dependents, link, named)
        insert_rows(dependents)
