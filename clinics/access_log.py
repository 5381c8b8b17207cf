"""Record every read of patient records, and check that nobody has rewritten the record.

Each entry's SHA-256 `entry_hash` covers its own fields and the previous entry's hash, so
changing or removing an entry breaks the chain at that point; `verify_chain` walks it.

On the hot path a read is one statement, and a list or search is one entry naming every
patient on the page. On PostgreSQL that statement is a call of `clinics_accesslog_append`
(migration 0007), which takes a transaction-scoped advisory lock, so two concurrent reads
cannot both chain onto the same previous entry (the fork would be indistinguishable from
tampering), reads the last entry, hashes the new one onto it and inserts it. An entry's time
never runs backwards along the chain: it is the later of the clock and the previous entry's.
"""

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone

from clinics.governance import AccessLogEntry

GENESIS_HASH = "0" * 64
# Any fixed 64-bit number: the key of the advisory lock every append takes.
_CHAIN_LOCK_KEY = 0x6F75747265616368  # "outreach"
_USER_AGENT_LENGTH = 200
_SINGLE_RECORD_ACTIONS = {
    AccessLogEntry.Action.VIEW,
    AccessLogEntry.Action.HISTORY,
    AccessLogEntry.Action.EXPORT,
}


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    Each of the OUTREACH_TRUSTED_PROXY_COUNT proxies in front of the app appends the address
    it received the request from, so the client is that many entries from the right; anything
    further left was written by the client and proves nothing.
    """
    address = request.META.get("REMOTE_ADDR", "")
    trusted = settings.OUTREACH_TRUSTED_PROXY_COUNT
    if trusted:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= trusted:
            address = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _text(value: str) -> str:
    """Text a database column can hold: PostgreSQL refuses NUL characters."""
    return value.replace("\x00", "")


def _patient_ids(patients: Any) -> list[int]:
    if patients is None:
        return []
    if isinstance(patients, int) or hasattr(patients, "pk"):
        patients = [patients]
    ids = (getattr(patient, "pk", patient) for patient in patients)
    return sorted({int(pk) for pk in ids if pk is not None})


def _digest_parts(entry: AccessLogEntry) -> tuple[str, str, str]:
    """The entry's canonical JSON, cut around its time and its previous hash.

    Canonical: keys sorted, no spaces, ASCII only. The time and the previous hash are only
    known under the chain's lock, and on PostgreSQL that is inside the database, which joins
    head + time + middle + previous hash + tail and hashes it (migration 0007).
    """

    def members(**values: Any) -> str:
        return ",".join(
            f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'), ensure_ascii=True)}"
            for key, value in values.items()
        )

    # In sorted key order: action, at | ip ... patients, previous | user ... via.
    head = "{" + members(action=entry.action) + ',"at":"'
    middle = (
        '",'
        + members(
            ip=entry.ip_address,
            organisation=entry.organisation_id,
            path=entry.path,
            patient=entry.patient_id,
            patients=list(entry.patient_ids),
        )
        + ',"previous":"'
    )
    tail = (
        '",'
        + members(
            user=entry.user_id,
            user_agent=entry.user_agent,
            username=entry.username,
            via=entry.via,
        )
        + "}"
    )
    return head, middle, tail


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def entry_digest(entry: AccessLogEntry) -> str:
    """The SHA-256 of an entry's content and the hash of the entry before it."""
    head, middle, tail = _digest_parts(entry)
    canonical = head + _timestamp(entry.at) + middle + entry.previous_hash + tail
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_patient_access(
    request_or_user: Any,
    patients: Any,
    *,
    action: str,
    via: str,
    path: str = "",
) -> AccessLogEntry | None:
    """Append one access log entry: who read which patients' records, when, from where, how.

    `request_or_user` is the request (for the address and user agent) or, in a job or
    command, the user. `patients` is a Patient, an id, or an iterable of either; nothing is
    logged when it is empty (nobody's record was read). Web views call this once per page.
    """
    ids = _patient_ids(patients)
    if not ids:
        return None
    request = request_or_user if isinstance(request_or_user, HttpRequest) else None
    if request is None and hasattr(request_or_user, "_request"):  # a DRF Request
        request = request_or_user._request
    user = request.user if request is not None else request_or_user
    authenticated = bool(getattr(user, "is_authenticated", False))
    staff = getattr(user, "staff", None) if authenticated else None
    entry = AccessLogEntry(
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        organisation_id=getattr(staff, "organisation_id", None),
        action=AccessLogEntry.Action(action),
        via=AccessLogEntry.Via(via),
        patient_id=ids[0] if action in _SINGLE_RECORD_ACTIONS and len(ids) == 1 else None,
        patient_ids=ids,
    )
    if request is not None:
        entry.ip_address = client_ip(request)
        entry.user_agent = _text(request.META.get("HTTP_USER_AGENT", ""))[:_USER_AGENT_LENGTH]
        path = path or request.path
    entry.path = _text(path)[:200]
    if connection.vendor == "postgresql":
        return _append_in_database(entry)
    # No savepoint: inside a larger transaction a failed append must fail it all anyway.
    with transaction.atomic(savepoint=False):
        # SQLite (development only) takes its write lock at the INSERT, after this read: two
        # processes could read the same head, and the unique previous_hash refuses the second.
        last = AccessLogEntry.objects.order_by("-id").values_list("entry_hash", "at").first()
        entry.previous_hash, previous_at = last or (GENESIS_HASH, None)
        now = timezone.now()
        entry.at = max(now, previous_at) if previous_at else now
        entry.entry_hash = entry_digest(entry)
        entry.save(force_insert=True)
    return entry


_APPEND_SQL = (
    "SELECT new_id, new_at, new_previous, new_hash FROM clinics_accesslog_append("
    "%s::bigint, %s::text, %s::text, %s::text, %s::timestamptz, %s::bigint, %s::text, "
    "%s::bigint, %s::text, %s::text, %s::bigint, %s::jsonb, %s::inet, %s::text, %s::text)"
)


def _append_in_database(entry: AccessLogEntry) -> AccessLogEntry:
    """One statement: lock the chain, read its head, hash and insert (migration 0007).

    A single statement is atomic on its own, and inside a larger transaction the lock is
    held to its end, so entries chain in the order they commit.
    """
    head, middle, tail = _digest_parts(entry)
    with connection.cursor() as cursor:
        cursor.execute(
            _APPEND_SQL,
            [
                _CHAIN_LOCK_KEY,
                head,
                middle,
                tail,
                timezone.now(),
                entry.user_id,
                entry.username,
                entry.organisation_id,
                entry.action,
                entry.via,
                entry.patient_id,
                json.dumps(list(entry.patient_ids)),
                entry.ip_address,
                entry.user_agent,
                entry.path,
            ],
        )
        entry.pk, entry.at, entry.previous_hash, entry.entry_hash = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def entries_about(patient_id: int) -> Any:
    """Every entry that read `patient_id`, singly or in a list (newest first)."""
    entries = AccessLogEntry.objects.all()
    if connection.vendor == "postgresql":
        # jsonb containment, answered by the GIN index the migration creates.
        return entries.filter(patient_ids__contains=[patient_id])
    # SQLite (development) has no JSON containment lookup: ask json_each directly.
    mentions = RawSQL(
        "SELECT e.id FROM clinics_accesslogentry e, json_each(e.patient_ids) j WHERE j.value = %s",
        [patient_id],
    )
    return entries.filter(Q(pk__in=mentions))


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    reason: str

    def __str__(self) -> str:
        return f"Access log entry {self.entry_id}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head: str
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _in_order(chunk_size: int) -> Iterator[AccessLogEntry]:
    return AccessLogEntry.objects.order_by("id").iterator(chunk_size=chunk_size)


def verify_chain(entries: Iterable[AccessLogEntry] | None = None) -> ChainReport:
    """Walk the log oldest first; stop at the first entry whose hashes do not add up."""
    previous = GENESIS_HASH
    checked = 0
    for entry in entries if entries is not None else _in_order(2000):
        if entry.previous_hash != previous:
            reason = (
                "its previous hash does not match the entry before it: an entry before it "
                "was removed or changed"
            )
            return ChainReport(checked, previous, ChainProblem(entry.pk, reason))
        if entry_digest(entry) != entry.entry_hash:
            reason = "its content does not match its hash: it was changed after it was written"
            return ChainReport(checked, previous, ChainProblem(entry.pk, reason))
        previous = entry.entry_hash
        checked += 1
    return ChainReport(checked, previous, None)
