"""A cursor whose every statement is prepared on the server (PostgreSQL only).

Imported only on PostgreSQL: it needs psycopg, which a SQLite installation may not have.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from psycopg.pq import Format

_NEVER_BY_COUNT = 2**62


class PreparedCursor(ServerBindingCursor):
    """Binds parameters on the server and prepares each statement the first time it runs.

    psycopg keeps a connection's prepared statements by their text and parameter types (at
    most `prepared_max`, 100 by default, dropping the least used), so a statement is parsed
    and planned once per connection instead of on every execution.
    """

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs["prepare"] = True
        kwargs.setdefault("binary", True)
        return super().execute(query, params, **kwargs)

    def _maybe_prepare_gen(self, pgq: Any, **kwargs: Any) -> Any:
        # psycopg keeps the statement it sent (what Django's query log and `connection.queries`
        # read) only when it waits for the answer; in pipeline mode it sends a prepared
        # statement without keeping it, and the log would show None.
        self._query = pgq
        return super()._maybe_prepare_gen(pgq, **kwargs)


def prepared_cursors(connection: BaseDatabaseWrapper, count: int) -> list[CursorWrapper]:
    """`count` `PreparedCursor`s on `connection`, each wrapped as `connection.cursor()` wraps
    its own, the connection checked once.

    Django's wrappers (query capture, execute wrappers, error translation) see their
    statements, and their datetimes come in the connection's time zone, as `create_cursor`
    arranges.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the connection (None), which psycopg applies even to
        # an explicit `prepare=True`. A threshold no statement reaches prepares only these:
        # Django's own cursors bind on the client, which never prepares.
        raw.prepare_threshold = _NEVER_BY_COUNT
    with connection.wrap_database_errors:
        tzloader = raw.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        other_zone = connection.timezone != tzloader.timezone
        made = []
        for _ in range(count):
            cursor = PreparedCursor(raw)
            if other_zone:
                register_tzloader(connection.timezone, cursor)
            made.append(connection._prepare_cursor(cursor))
        return made
