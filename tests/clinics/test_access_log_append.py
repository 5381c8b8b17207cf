"""The append: one statement on PostgreSQL, and the hash it writes is the one verify checks."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from clinics.access_log import GENESIS_HASH, entry_digest, record_patient_access, verify_chain
from clinics.governance import AccessLogEntry
from tests import factories

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action


def _canonical_digest(entry: AccessLogEntry) -> str:
    """The digest as first defined: one json.dumps of every field, keys sorted."""
    content = {
        "at": entry.at.astimezone(UTC).isoformat(),
        "user": entry.user_id,
        "username": entry.username,
        "organisation": entry.organisation_id,
        "action": entry.action,
        "via": entry.via,
        "patient": entry.patient_id,
        "patients": list(entry.patient_ids),
        "ip": entry.ip_address,
        "user_agent": entry.user_agent,
        "path": entry.path,
        "previous": entry.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


texts = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(timezones=st.just(UTC)),
    user=st.none() | st.integers(1, 2**40),
    username=texts,
    organisation=st.none() | st.integers(1, 2**31),
    patient=st.none() | st.integers(1, 2**31),
    patients=st.lists(st.integers(1, 2**31), max_size=5),
    ip=st.none() | st.ip_addresses().map(str),
    user_agent=texts,
    path=texts,
    previous=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_the_digest_is_unchanged_for_entries_already_written(
    at, user, username, organisation, patient, patients, ip, user_agent, path, previous
):
    entry = AccessLogEntry(
        at=at,
        user_id=user,
        username=username,
        organisation_id=organisation,
        action=Action.LIST,
        via=AccessLogEntry.Via.API,
        patient_id=patient,
        patient_ids=patients,
        ip_address=ip,
        user_agent=user_agent,
        path=path,
        previous_hash=previous,
    )
    assert entry_digest(entry) == _canonical_digest(entry)


@pytest.mark.postgres
def test_on_postgresql_an_append_is_one_statement(nurse):
    patient = factories.PatientFactory()
    with CaptureQueriesContext(connection) as captured:
        entry = record_patient_access(nurse.user, patient, action=Action.VIEW, via="api")
    assert len(captured) == 1
    assert "clinics_accesslog_append" in captured[0]["sql"]
    stored = AccessLogEntry.objects.get(pk=entry.pk)
    assert (stored.at, stored.previous_hash, stored.entry_hash) == (
        entry.at,
        entry.previous_hash,
        entry.entry_hash,
    )


@pytest.mark.parametrize("microsecond", [0, 1, 500000, 999999])
def test_the_stored_hash_matches_the_stored_content(time_machine, nurse, microsecond):
    """Whatever writes it (the database on PostgreSQL), verify recomputes the same hash."""
    time_machine.move_to(datetime(2026, 3, 29, 0, 59, 59, microsecond, tzinfo=UTC), tick=False)
    request = RequestFactory().get(
        "/patients/",
        HTTP_USER_AGENT='Tablette/2.0 (é, ü, 中文) "quoted" \\ back',
        REMOTE_ADDR="2001:db8::1",
    )
    request.user = nurse.user
    patients = factories.PatientFactory.create_batch(2)
    record_patient_access(request, patients, action=Action.LIST, via="web")
    record_patient_access(request, patients[0], action=Action.VIEW, via="web")
    first, second = AccessLogEntry.objects.order_by("id")
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.entry_hash
    assert first.at == datetime(2026, 3, 29, 0, 59, 59, microsecond, tzinfo=UTC)
    assert first.ip_address == "2001:db8::1"
    assert first.user_agent.startswith("Tablette/2.0 (é")
    for entry in (first, second):
        assert entry_digest(entry) == entry.entry_hash
    assert verify_chain().intact


def test_time_never_runs_backwards_along_the_chain(time_machine, nurse):
    patient = factories.PatientFactory()
    later = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    time_machine.move_to(later, tick=False)
    record_patient_access(nurse.user, patient, action=Action.VIEW, via="api")
    # The application server's clock steps back (NTP): the next entry is not dated earlier.
    time_machine.move_to(later - timedelta(minutes=5), tick=False)
    entry = record_patient_access(nurse.user, patient, action=Action.VIEW, via="api")
    assert AccessLogEntry.objects.get(pk=entry.pk).at == later
    assert verify_chain().intact


def test_a_nul_character_in_the_request_is_dropped_not_a_failure(nurse):
    request = RequestFactory().get("/patients/", HTTP_USER_AGENT="Bad\x00Agent")
    request.user = nurse.user
    entry = record_patient_access(
        request, factories.PatientFactory(), action=Action.VIEW, via="web", path="/p/\x00x"
    )
    stored = AccessLogEntry.objects.get(pk=entry.pk)
    assert (stored.user_agent, stored.path) == ("BadAgent", "/p/x")
    assert verify_chain().intact


def test_the_database_refuses_a_fork_in_the_chain(nurse):
    """Two entries chained onto one predecessor would hide which came first: never stored."""
    first = record_patient_access(nurse.user, factories.PatientFactory(), action="view", via="api")
    fork = AccessLogEntry(
        at=first.at,
        action=Action.VIEW,
        via=AccessLogEntry.Via.API,
        patient_ids=[first.patient_id],
        previous_hash=first.previous_hash,
    )
    fork.entry_hash = entry_digest(fork)
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save(force_insert=True)
