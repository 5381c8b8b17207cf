"""The replies API: the coordinator's queue of texts the system could not act on."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils.dateparse import parse_datetime

from clinics.governance import AccessLogEntry
from clinics.models import StaffMember
from outreach.messaging import inbound
from outreach.models import InboundMessage
from tests import factories
from tests.api_support import NOW, assert_error, post_json

pytestmark = pytest.mark.django_db

REPLIES = "/api/v1/replies/"
Action = InboundMessage.Action


def _reply(organisation, **fields) -> InboundMessage:
    patient = fields.pop("patient", None) or factories.PatientFactory(organisation=organisation)
    fields.setdefault("action", Action.UNKNOWN)
    fields.setdefault("body", "Running late, is that ok?")
    fields.setdefault("received_at", NOW)
    return factories.InboundMessageFactory(organisation=organisation, patient=patient, **fields)


def _sensitive_reply(organisation) -> InboundMessage:
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    booking = factories.BookingFactory(
        session__organisation=organisation,
        patient__organisation=organisation,
        service_type=screening,
    )
    return _reply(organisation, patient=booking.patient, booking=booking)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_newest_first_with_the_number_masked(organisation, coordinator_client):
    older = _reply(organisation, received_at=NOW - timedelta(hours=2))
    newer = _reply(organisation, from_number="+447700900123", note="No booking to confirm.")

    response = coordinator_client.get(REPLIES)

    assert _ids(response) == [newer.pk, older.pk]
    row = response.json()["results"][0]
    assert row["masked_from"] == "***123"
    assert "+447700900123" not in response.content.decode()
    assert row["note"] == "No booking to confirm."
    assert row["handled"] is False
    assert row["handled_by"] is None
    assert parse_datetime(row["received_at"]) == NOW


def test_filters_pick_the_unhandled_unknown_replies_of_a_booking(organisation, coordinator_client):
    booking = factories.BookingFactory(
        session__organisation=organisation, patient__organisation=organisation
    )
    waiting = _reply(organisation, patient=booking.patient, booking=booking)
    _reply(
        organisation,
        patient=booking.patient,
        booking=booking,
        action=Action.CONFIRMED,
        handled=True,
    )
    _reply(organisation)

    assert _ids(coordinator_client.get(REPLIES, {"handled": "false", "booking": booking.pk})) == [
        waiting.pk
    ]
    assert _ids(
        coordinator_client.get(REPLIES, {"action": "unknown", "patient": booking.patient_id})
    )
    assert _ids(coordinator_client.get(REPLIES, {"action": "confirmed", "handled": "false"})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"handled": "maybe"}, "handled"),
        ({"action": "shouted"}, "action"),
        ({"booking": "x"}, "booking"),
    ],
)
def test_a_filter_it_cannot_use_is_a_400_naming_it(coordinator_client, query, field):
    body = assert_error(coordinator_client.get(REPLIES, query), 400)
    assert field in body["fields"]


def test_handling_records_who_and_when(organisation, coordinator, coordinator_client, clock):
    reply = _reply(organisation)

    response = post_json(coordinator_client, f"{REPLIES}{reply.pk}/handle/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["handled"] is True
    assert parse_datetime(body["handled_at"]) == NOW
    user = coordinator.user
    assert body["handled_by"] == (user.get_full_name() or user.get_username())
    reply.refresh_from_db()
    assert (reply.handled, reply.handled_at, reply.handled_by) == (True, NOW, user)


def test_handling_twice_is_a_conflict_that_keeps_the_first_name(
    organisation, coordinator_client, make_staff, client_for
):
    reply = _reply(organisation)
    first = make_staff(organisation, StaffMember.Role.COORDINATOR)
    post_json(client_for(first), f"{REPLIES}{reply.pk}/handle/")

    assert_error(
        post_json(coordinator_client, f"{REPLIES}{reply.pk}/handle/"), 409, "already_handled"
    )
    reply.refresh_from_db()
    assert reply.handled_by == first.user


def test_a_sent_handled_flag_or_organisation_is_ignored(organisation, coordinator_client, clock):
    reply = _reply(organisation)
    other = factories.OrganisationFactory()

    response = post_json(
        coordinator_client,
        f"{REPLIES}{reply.pk}/handle/",
        {"handled": False, "organisation": other.pk, "handled_at": "2001-02-03T04:05:06Z"},
    )

    assert response.status_code == 200, response.content
    reply.refresh_from_db()
    assert reply.handled is True
    assert reply.handled_at == NOW
    assert reply.organisation == organisation


def test_the_list_and_record_cannot_be_written_directly(organisation, coordinator_client):
    reply = _reply(organisation)
    url = f"{REPLIES}{reply.pk}/"
    assert (
        coordinator_client.patch(
            url, {"handled": True}, content_type="application/json"
        ).status_code
        == 405
    )
    assert post_json(coordinator_client, REPLIES, {"body": "C"}).status_code == 405


def test_another_organisations_reply_is_a_404_and_not_listed(coordinator_client):
    theirs = _reply(factories.OrganisationFactory())

    assert theirs.pk not in _ids(coordinator_client.get(REPLIES))
    assert_error(coordinator_client.get(f"{REPLIES}{theirs.pk}/"), 404)
    assert_error(post_json(coordinator_client, f"{REPLIES}{theirs.pk}/handle/"), 404)
    theirs.refresh_from_db()
    assert theirs.handled is False


@pytest.mark.parametrize("role", [StaffMember.Role.NURSE, StaffMember.Role.ANALYST])
def test_roles_without_the_permission_are_refused(organisation, make_staff, client_for, role):
    reply = _reply(organisation)
    client = client_for(make_staff(organisation, role))

    assert_error(client.get(REPLIES), 403)
    assert_error(client.get(f"{REPLIES}{reply.pk}/"), 403)
    assert_error(post_json(client, f"{REPLIES}{reply.pk}/handle/"), 403)


def test_sensitive_replies_are_hidden_without_the_sensitive_services_permission(
    organisation, nurse, client_for
):
    # A nurse allowed to read replies, but not to see sensitive services.
    nurse.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_inboundmessage", "change_inboundmessage"])
    )
    hidden = _sensitive_reply(organisation)
    plain = _reply(organisation)
    client = client_for(nurse)

    assert _ids(client.get(REPLIES)) == [plain.pk]
    assert_error(client.get(f"{REPLIES}{hidden.pk}/"), 404)
    assert_error(post_json(client, f"{REPLIES}{hidden.pk}/handle/"), 404)


def test_coordinators_see_sensitive_replies(organisation, coordinator_client):
    reply = _sensitive_reply(organisation)
    assert _ids(coordinator_client.get(REPLIES)) == [reply.pk]


def test_reads_naming_patients_are_in_the_access_log(organisation, coordinator, coordinator_client):
    first, second = _reply(organisation), _reply(organisation)

    coordinator_client.get(REPLIES)
    coordinator_client.get(f"{REPLIES}{first.pk}/")

    entries = list(AccessLogEntry.objects.filter(user=coordinator.user).order_by("id"))
    assert [entry.action for entry in entries] == [
        AccessLogEntry.Action.LIST,
        AccessLogEntry.Action.VIEW,
    ]
    assert sorted(entries[0].patient_ids) == sorted([first.patient_id, second.patient_id])
    assert entries[1].patient_ids == [first.patient_id]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_coordinators_handling_at_once_get_one_success(organisation, make_staff):
    reply = _reply(organisation)
    users = [make_staff(organisation, StaffMember.Role.COORDINATOR).user for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def handle(user) -> None:
        try:
            barrier.wait()
            inbound.mark_reply_handled(reply, by=user)
            results.append("handled")
        except inbound.Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=handle, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["conflict", "handled"]
    reply.refresh_from_db()
    assert reply.handled
    assert reply.handled_by in users


def test_ticking_handled_in_the_admin_records_who_and_when(organisation, admin_client, clock):
    reply = _reply(organisation)
    url = "/admin/outreach/inboundmessage/"
    form = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(reply.pk),
        "form-0-handled": "on",
        "_save": "Save",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content
    reply.refresh_from_db()
    assert reply.handled is True
    assert reply.handled_at == NOW
    assert reply.handled_by.is_superuser

    admin_client.post(url, {**form, "form-0-handled": ""})
    reply.refresh_from_db()
    assert reply.handled is False
    assert reply.handled_by is None
