"""What the web pages wrote to the access log, for the tests of each app's pages."""

from typing import Any

from django.contrib.auth.models import Permission

from clinics.governance import AccessLogEntry


def web_entries() -> list[AccessLogEntry]:
    """Every entry the web app wrote, oldest first."""
    return list(AccessLogEntry.objects.filter(via=AccessLogEntry.Via.WEB).order_by("id"))


def the_one_entry() -> AccessLogEntry:
    """The single entry a page wrote; fails if it wrote none or more than one."""
    entries = web_entries()
    assert len(entries) == 1, [(e.action, e.path, e.patient_ids) for e in entries]
    return entries[0]


def log_inserts(queries: Any) -> int:
    """How many access log entries a CaptureQueriesContext saw being appended.

    An INSERT on SQLite; on PostgreSQL a call of the append function (migration clinics 0007).
    """
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith('INSERT INTO "clinics_accesslogentry"')
        or "FROM clinics_accesslog_append(" in query["sql"]
    )


def grant_sensitive_services(user: Any) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_sensitive_services"))
