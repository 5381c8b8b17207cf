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

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from clinics.models import Patient, Venue
from outreach.models import Booking, MessageTemplate, OutreachSession

M = TypeVar("M", bound=Model)


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


def _seconds(start: str, end: str) -> str:
    """SQL for the seconds from `start` to `end`, two timestamp columns."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"
    return f"(julianday({end}) - julianday({start})) * 86400.0"


_ACTIVE = tuple(Booking.ACTIVE_STATUSES)


def lock_session(pk: Any, fields: Sequence[str], service_id: int) -> OutreachSession | None:
    """The session `pk`, locked, with `fields`, its venue's name and whether it offers the service.

    `offers_service` is set on the returned session; None if there is no such session.
    """
    # In the model's field order, the order `from_db` takes values in.
    wanted = {OutreachSession._meta.get_field("id" if name == "pk" else name) for name in fields}
    chosen = [field for field in OutreachSession._meta.concrete_fields if field in wanted]
    attnames = [field.attname for field in chosen]
    session_table, venue_table = _table(OutreachSession), _table(Venue)
    through = OutreachSession.services.through
    columns = ", ".join(f"s.{connection.ops.quote_name(field.column)}" for field in chosen)
    sql = (
        f"SELECT {columns}, v.{_column(Venue, 'name')}, EXISTS("  # noqa: S608  # nosec B608
        f"SELECT 1 FROM {_table(through)} o WHERE o.{_column(through, 'outreachsession')} = s.id"
        f" AND o.{_column(through, 'servicetype')} = %s)"
        f" FROM {session_table} s JOIN {venue_table} v"
        f" ON v.id = s.{_column(OutreachSession, 'venue')}"
        f" WHERE s.id = %s{_for_update('s')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [service_id, pk])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, venue_name, offered = row
    session = OutreachSession.from_db(connection.alias, attnames, values)
    for name in ("starts_at", "ends_at"):
        if name in attnames:
            setattr(session, name, aware(getattr(session, name)))
    venue = Venue.from_db(connection.alias, ["id", "name"], [session.venue_id, venue_name])
    OutreachSession.venue.field.set_cached_value(session, venue)
    session.offers_service = bool(offered)
    return session


def _columns(model: type[Model]) -> str:
    """Every concrete column of `model`, in the order `_read_one` takes them."""
    return ", ".join(
        connection.ops.quote_name(field.column) for field in model._meta.concrete_fields
    )


def _read_one(model: type[M], sql: str, params: Sequence[Any]) -> M | None:
    """The row `sql` selects (every column, as `_columns` lists them) as a `model`, or None.

    Made as the ORM makes it: datetimes aware, booleans bools (SQLite hands back 0 and 1).
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    fields = model._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        kind = field.get_internal_type()
        if value is not None and kind == "DateTimeField":
            value = aware(value)
        elif value is not None and kind == "BooleanField":
            value = bool(value)
        values.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def lock_patient(pk: Any) -> Patient | None:
    """The patient `pk`, every field read, locked; None if there is no such patient."""
    sql = f"SELECT {_columns(Patient)} FROM {_table(Patient)} WHERE id = %s{_for_update()}"  # noqa: S608  # nosec B608
    return _read_one(Patient, sql, [pk])


def appointment_seconds(session_ids: Sequence[int]) -> dict[int, float]:
    """Seconds booked ahead in each session by its active bookings (walk-ins not counted)."""
    if not session_ids:
        return {}
    table = _table(Booking)
    session, status, source = (_column(Booking, name) for name in ("session", "status", "source"))
    span = _seconds(_column(Booking, "starts_at"), _column(Booking, "ends_at"))
    sql = (
        f"SELECT {session}, SUM({span}) FROM {table}"  # noqa: S608  # nosec B608
        f" WHERE {session} IN ({_placeholders(session_ids)})"
        f" AND {status} IN ({_placeholders(_ACTIVE)}) AND {source} <> %s"
        f" GROUP BY {session}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*session_ids, *_ACTIVE, Booking.Source.WALK_IN])
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
    session, status, lane, starts_at, ends_at = (
        _column(Booking, name) for name in ("session", "status", "lane", "starts_at", "ends_at")
    )
    sql = (
        f"SELECT {session}, {lane}, {starts_at}, {ends_at} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
        f" WHERE {session} IN ({_placeholders(session_ids)})"
        f" AND {status} IN ({_placeholders(_ACTIVE)}) AND {lane} IS NOT NULL"
        f" AND {starts_at} < %s AND {ends_at} > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*session_ids, *_ACTIVE, db_datetime(end), db_datetime(start)])
        rows = cursor.fetchall()
    for session_id, lane_number, booked_from, booked_to in rows:
        found[session_id][lane_number].append((aware(booked_from), aware(booked_to)))
    return found


def patient_clashes(
    patient_id: int, session_id: int, starts_at: datetime, ends_at: datetime
) -> list[int]:
    """Sessions of up to two active bookings of the patient that a new one would clash with.

    Any active booking in the same session, or a booked or arrived one overlapping the time:
    the checks the exclusion constraints make.
    """
    patient, session, status = (_column(Booking, name) for name in ("patient", "session", "status"))
    start, end = _column(Booking, "starts_at"), _column(Booking, "ends_at")
    live = (Booking.Status.BOOKED, Booking.Status.ARRIVED)
    sql = (
        f"SELECT {session} FROM {_table(Booking)}"  # noqa: S608  # nosec B608
        f" WHERE {patient} = %s AND {status} IN ({_placeholders(_ACTIVE)})"
        f" AND ({session} = %s OR ({status} IN ({_placeholders(live)})"
        f" AND {start} < %s AND {end} > %s)) LIMIT 2"
    )
    params = [patient_id, *_ACTIVE, session_id, *live, db_datetime(ends_at), db_datetime(starts_at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def active_template(purpose: str, channel: str, *, discreet: bool) -> MessageTemplate | None:
    """The active template for a purpose, channel and discretion; None if there is none.

    A constraint allows one at most. Every booking reads it for its reminders' wording while
    it holds the session's lock.
    """
    purpose_, channel_, discreet_, active = (
        _column(MessageTemplate, name) for name in ("purpose", "channel", "discreet", "is_active")
    )
    sql = (
        f"SELECT {_columns(MessageTemplate)} FROM {_table(MessageTemplate)}"  # noqa: S608  # nosec B608
        f" WHERE {purpose_} = %s AND {channel_} = %s AND {discreet_} = %s AND {active} = %s"
    )
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
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = f"({_placeholders(fields)})"
    sql = (
        f"INSERT INTO {_table(model)} ({columns})"  # noqa: S608  # nosec B608
        f" VALUES {', '.join([row] * len(objs))}"
        f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    )
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    # Both databases return the rows of a multi-row VALUES insert in the order given.
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_with_history(obj: Model, *, user: Any, reason: str) -> None:
    """Insert a new `obj` and its simple-history "created" row, as `obj.save()` would.

    Two statements instead of the save's model machinery: the row, then the history row
    `HistoricalRecords.create_historical_record` would make (the same tracked fields, date,
    user and reason, and its two signals). It sends no `pre_save` or `post_save`, so it is only
    for models whose only `post_save` receiver is their history (a test holds booking to that).
    """
    insert_rows([obj])
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history_model = obj.history.model  # type: ignore[attr-defined]
    history_date = getattr(obj, "_history_date", None) or timezone.now()
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
