"""Every read of a patient record is logged, append-only, in a hash chain that shows tampering."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test import RequestFactory

from clinics.access_log import client_ip, record_patient_access, verify_chain
from clinics.governance import AccessLogEntry, AppendOnly
from tests import factories

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action


def _entries() -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.order_by("id"))


def test_reading_a_patient_in_the_api_is_logged(clock, nurse, nurse_client, organisation):
    patient = factories.PatientFactory(organisation=organisation)
    nurse_client.get(f"/api/v1/patients/{patient.pk}/", HTTP_USER_AGENT="Tablet/1.0 " + "x" * 300)
    (entry,) = _entries()
    assert (entry.user, entry.action, entry.via, entry.patient) == (
        nurse.user,
        Action.VIEW,
        "api",
        patient,
    )
    assert entry.organisation_id == organisation.pk
    assert entry.ip_address == "127.0.0.1"
    assert len(entry.user_agent) == 200


def test_a_list_is_one_entry_naming_everyone_on_the_page(clock, nurse_client, organisation):
    patients = factories.PatientFactory.create_batch(3, organisation=organisation)
    nurse_client.get("/api/v1/patients/")
    nurse_client.get("/api/v1/patients/", {"search": patients[0].preferred_name})
    listed, searched = _entries()
    assert listed.action == Action.LIST
    assert listed.patient is None
    assert listed.patient_ids == sorted(p.pk for p in patients)
    assert searched.action == Action.SEARCH
    assert patients[0].pk in searched.patient_ids


def test_an_empty_list_reads_nobody_and_logs_nothing(clock, nurse_client):
    nurse_client.get("/api/v1/patients/")
    assert _entries() == []


def test_the_patient_history_is_served_and_logged(clock, nurse_client, nurse, organisation):
    from clinics.services import register_patient, update_patient

    patient = register_patient(organisation=organisation, by=nurse.user, preferred_name="Sam")
    update_patient(patient, by=nurse.user, legal_name="Samuel Smith")
    body = nurse_client.get(f"/api/v1/patients/{patient.pk}/history/").json()
    assert [entry["type"] for entry in body] == ["created", "changed"]
    assert body[1]["changes"] == [{"field": "legal_name", "old": "", "new": "Samuel Smith"}]
    assert _entries()[0].action == Action.HISTORY


def test_the_access_log_endpoint_is_for_auditors_coordinators_and_admins(
    clock, make_staff, client_for, organisation, nurse, nurse_client
):
    patient = factories.PatientFactory(organisation=organisation)
    for _ in range(3):
        nurse_client.get(f"/api/v1/patients/{patient.pk}/")
    nurse_client.get("/api/v1/patients/")
    url = f"/api/v1/patients/{patient.pk}/access-log/"
    assert nurse_client.get(url).status_code == 403
    for role in ("auditor", "coordinator", "admin"):
        body = client_for(make_staff(organisation, role)).get(url).json()
        assert [row["action"] for row in body["results"]] == ["list", "view", "view", "view"]
        assert body["results"][0]["username"] == nurse.user.username
    outsider = client_for(make_staff(factories.OrganisationFactory(), "auditor"))
    assert outsider.get(url).status_code == 404


def test_the_access_log_is_cursor_paginated(clock, make_staff, client_for, organisation, nurse):
    patient = factories.PatientFactory(organisation=organisation)
    for _ in range(55):
        record_patient_access(nurse.user, patient, action=Action.VIEW, via="web")
    client = client_for(make_staff(organisation, "auditor"))
    first = client.get(f"/api/v1/patients/{patient.pk}/access-log/").json()
    assert len(first["results"]) == 50
    assert "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5


def test_auditors_read_history_but_list_nobody(clock, make_staff, client_for, organisation):
    patient = factories.PatientFactory(organisation=organisation)
    auditor = client_for(make_staff(organisation, "auditor"))
    assert auditor.get(f"/api/v1/patients/{patient.pk}/history/").status_code == 200
    assert auditor.get(f"/api/v1/patients/{patient.pk}/").status_code == 404
    assert auditor.get("/api/v1/patients/").json()["results"] == []
    assert auditor.post("/api/v1/patients/", {"preferred_name": "X"}).status_code == 403


def test_entries_chain_and_verify(nurse):
    patients = factories.PatientFactory.create_batch(3)
    for patient in patients:
        record_patient_access(nurse.user, patient, action=Action.VIEW, via="web")
    first, second, third = _entries()
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.entry_hash
    assert third.previous_hash == second.entry_hash
    report = verify_chain()
    assert report.intact
    assert report.checked == 3
    assert report.head == third.entry_hash


def test_the_model_refuses_changes_and_deletes(nurse):
    entry = factories.AccessLogEntryFactory(user=nurse.user)
    entry.username = "someone-else"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AccessLogEntry.objects.filter(pk=entry.pk).update(username="x")
    with pytest.raises(AppendOnly):
        AccessLogEntry.objects.all().delete()


@pytest.mark.postgres
def test_the_database_refuses_update_and_delete(nurse):
    entry = factories.AccessLogEntryFactory(user=nurse.user)
    for sql in (
        "UPDATE clinics_accesslogentry SET username = 'x' WHERE id = %s",
        "DELETE FROM clinics_accesslogentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])


def _bypassing_the_trigger(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE clinics_accesslogentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE clinics_accesslogentry ENABLE TRIGGER USER")


@pytest.mark.postgres
def test_verify_names_the_entry_whose_content_was_changed(nurse):
    entries = [factories.AccessLogEntryFactory(user=nurse.user) for _ in range(4)]
    call_command("verify_access_log")
    _bypassing_the_trigger(
        "UPDATE clinics_accesslogentry SET username = 'cover-up' WHERE id = %s", [entries[2].pk]
    )
    with pytest.raises(CommandError, match=f"entry {entries[2].pk}: its content") as error:
        call_command("verify_access_log")
    assert error.value.returncode == 1


@pytest.mark.postgres
def test_verify_finds_a_removed_entry(nurse):
    entries = [factories.AccessLogEntryFactory(user=nurse.user) for _ in range(4)]
    _bypassing_the_trigger("DELETE FROM clinics_accesslogentry WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=f"entry {entries[2].pk}: its previous hash"):
        call_command("verify_access_log")


def test_verify_reports_an_intact_log(nurse, capsys):
    factories.AccessLogEntryFactory(user=nurse.user)
    call_command("verify_access_log")
    assert "intact: 1 entries" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_never_fork_the_chain():
    user = factories.UserFactory()
    patient = factories.PatientFactory()
    start = threading.Barrier(8)
    errors = []

    def read() -> None:
        try:
            start.wait()
            for _ in range(5):
                record_patient_access(user, patient, action=Action.VIEW, via="api")
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AccessLogEntry.objects.count() == 40
    report = verify_chain()
    assert report.intact, report.problem
    assert len(set(AccessLogEntry.objects.values_list("previous_hash", flat=True))) == 40


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the header proves nothing
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client forged the first one
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", None),
    ],
)
def test_the_client_address_trusts_only_our_proxies(settings, trusted, forwarded, expected):
    settings.OUTREACH_TRUSTED_PROXY_COUNT = trusted
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_admin_logs_its_patient_pages(clock, organisation, make_staff, client_for):
    patient = factories.PatientFactory(organisation=organisation)
    client = client_for(make_staff(organisation, "coordinator"))
    client.get("/admin/clinics/patient/")
    client.get(f"/admin/clinics/patient/{patient.pk}/change/")
    assert [(e.action, e.via) for e in _entries()] == [("list", "admin"), ("view", "admin")]


def test_bookings_referrals_and_messages_that_name_patients_are_logged(
    clock, organisation, nurse_client
):
    session = factories.OutreachSessionFactory(organisation=organisation)
    bookings = factories.BookingFactory.create_batch(
        2, session=session, lane=factories.factory.Iterator([1, 2])
    )
    referral = factories.ReferralFactory(organisation=organisation, patient=bookings[0].patient)
    nurse_client.get("/api/v1/bookings/")
    nurse_client.get(f"/api/v1/bookings/{bookings[1].pk}/")
    nurse_client.get(f"/api/v1/referrals/{referral.pk}/history/")
    nurse_client.get(f"/api/v1/sessions/{session.pk}/day/")
    nurse_client.get(f"/api/v1/sessions/{session.pk}/")  # names nobody: not logged
    listed, viewed, history, day = _entries()
    assert (listed.action, listed.patient_ids) == ("list", sorted(b.patient_id for b in bookings))
    assert (viewed.action, viewed.patient_id) == ("view", bookings[1].patient_id)
    assert (history.action, history.patient_id) == ("history", referral.patient_id)
    assert day.path == f"/api/v1/sessions/{session.pk}/day/"
    assert sorted(day.patient_ids) == sorted(b.patient_id for b in bookings)
