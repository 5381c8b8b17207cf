"""PostgreSQL timestamps read by psycopg's compiled loader give what Django's loader gives."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template, register_tzloader
from hypothesis import given, settings
from hypothesis import strategies as st

from config import database
from outreach.models import Booking
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TIMESTAMPTZ = "timestamptz"


def _loader_class() -> type:
    from psycopg.pq import Format

    oid = connection.connection.adapters.types[TIMESTAMPTZ].oid
    return connection.connection.adapters.get_loader(oid, Format.TEXT)


def _read(values: list[datetime], *, djangos: bool) -> list[datetime]:
    """The values sent to the server and read back as text, by one loader or the other."""
    with connection.cursor() as cursor:
        if djangos:
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(
            "SELECT v FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [values],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_utc_connection_reads_timestamps_with_the_compiled_loader():
    connection.ensure_connection()

    assert _loader_class() is database.CompiledUTCTimestampLoader


def test_orm_reads_come_back_as_utc_datetimes():
    booking = factories.BookingFactory()

    starts_at = Booking.objects.values_list("starts_at", flat=True).get(pk=booking.pk)

    assert starts_at == booking.starts_at
    assert starts_at.tzinfo is UTC


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_both_loaders_read_the_same_datetimes(values):
    ours = _read(values, djangos=False)
    djangos = _read(values, djangos=True)

    assert ours == djangos == values
    assert {value.tzinfo for value in ours} == {UTC}


def test_a_server_speaking_another_time_zone_keeps_djangos_loader():
    from psycopg.pq import Format

    connection.ensure_connection()
    oid = connection.connection.adapters.types[TIMESTAMPTZ].oid
    djangos = get_adapters_template(True, UTC).get_loader(oid, Format.TEXT)
    connection.connection.adapters.register_loader(TIMESTAMPTZ, djangos)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/London'")
    try:
        database.use_compiled_timestamps(sender=None, connection=connection)
        assert _loader_class() is djangos
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        database.use_compiled_timestamps(sender=None, connection=connection)
    assert _loader_class() is database.CompiledUTCTimestampLoader


def test_a_microsecond_and_an_hour_apart_survive():
    base = datetime(2027, 3, 28, 0, 59, 59, 999999, tzinfo=UTC)

    assert _read(
        [base, base + timedelta(microseconds=1), base + timedelta(hours=1)], djangos=False
    ) == [
        base,
        base + timedelta(microseconds=1),
        base + timedelta(hours=1),
    ]
