"""Database constraints that only PostgreSQL can enforce, declared once on the models.

Overlap rules ("a lane is never booked twice at the same time", "a bus is never in two places")
are exclusion constraints over a time range, which need PostgreSQL and btree_gist. The project
also runs on SQLite for a server-free `make run` and `make test`; there the constraint is left
out of the schema and the services' own checks (under a row lock) are what stands in for it.
Production and CI run on PostgreSQL, where the database has the last word.
"""

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.core.exceptions import FieldError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class TstzRange(Func):
    """tstzrange(start, end, '[)'): half-open, so back-to-back appointments do not overlap."""

    function = "TSTZRANGE"
    template = "%(function)s(%(expressions)s, '[)')"


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that is a no-op on databases other than PostgreSQL."""

    @staticmethod
    def _is_postgres(connection: Any) -> bool:
        return connection.vendor == "postgresql"

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor.connection):
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor.connection):
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor.connection):
            return None
        return super().remove_sql(model, schema_editor)

    def validate(
        self, model: Any, instance: Any, exclude: Any = None, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        if not self._is_postgres(connections[using]):
            return
        try:
            super().validate(model, instance, exclude=exclude, using=using)
        except FieldError:
            # A form that leaves out a field the condition names (status, say) cannot be
            # checked here; Django's own CheckConstraint skips in the same way, and the
            # database still enforces the constraint on save.
            return


def postgres_sql(sql: str) -> Any:
    """A RunPython function that runs `sql` on PostgreSQL and does nothing elsewhere (SQLite).

    For migrations that add what only PostgreSQL has (triggers, functions, GIN indexes); pass
    `params=None` so a `%` in the SQL is not taken for a placeholder.
    """

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run
