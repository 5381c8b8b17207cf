"""The message log: delivery statuses, filters, sensitive services hidden, the log, resending."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.governance import AccessLogEntry
from clinics.models import StaffMember
from outreach.models import Message
from tests import factories
from tests.access_support import grant_sensitive_services, log_inserts, the_one_entry, web_entries

pytestmark = pytest.mark.django_db


def _message(organisation, **fields):
    return factories.MessageFactory(organisation=organisation, **fields)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (StaffMember.Role.COORDINATOR, 200),
        (StaffMember.Role.NURSE, 200),
        (StaffMember.Role.ANALYST, 403),
        (StaffMember.Role.AUDITOR, 403),
    ],
)
def test_staff_who_see_messages_see_the_log(organisation, make_staff, client_for, role, status):
    client = client_for(make_staff(organisation, role))
    assert client.get(reverse("message-log")).status_code == status


def test_the_log_shows_status_and_a_masked_number_but_not_other_organisations(
    organisation, coordinator_client
):
    _message(organisation, status=Message.Status.SUPPRESSED, suppressed_reason="opted_out")
    other = factories.OrganisationFactory()
    _message(other, body="Another organisation's text")
    html = coordinator_client.get(reverse("message-log")).content.decode()
    assert "1 message" in html
    assert "Suppressed" in html
    assert "Opted out" in html
    assert "*********0123" in html
    assert "+447700900123" not in html
    assert "Another organisation" not in html


def test_filters_by_status_channel_and_london_date(organisation, coordinator_client):
    late_sms = _message(
        organisation,
        status=Message.Status.FAILED,
        send_after=datetime(2026, 6, 1, 23, 30, tzinfo=UTC),  # 00:30 on 2 June in London
    )
    _message(
        organisation,
        status=Message.Status.DELIVERED,
        sent_at=datetime(2026, 6, 1, tzinfo=UTC),
        delivered_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    _message(organisation, channel="email", to="sam@example.org", status=Message.Status.FAILED)
    response = coordinator_client.get(
        reverse("message-log"),
        {"status": "failed", "channel": "sms", "date_from": "2026-06-02", "date_to": "2026-06-02"},
    )
    assert [row["message"].pk for row in response.context["rows"]] == [late_sms.pk]


def test_a_bad_date_range_is_explained_and_kept(organisation, coordinator_client):
    response = coordinator_client.get(
        reverse("message-log"), {"date_from": "2026-06-05", "date_to": "2026-06-01"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The end date must be on or after the start date." in html
    assert 'value="2026-06-05"' in html


def test_htmx_gets_only_the_table(organisation, coordinator_client):
    _message(organisation)
    response = coordinator_client.get(reverse("message-log"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="message-count"' in html
    assert "<html" not in html


@pytest.fixture
def screening_message(organisation):
    """A discreet reminder for a cervical screening booking."""
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    booking = factories.BookingFactory(session__organisation=organisation, service_type=screening)
    return _message(
        organisation,
        patient=booking.patient,
        booking=booking,
        discreet=True,
        body="Hi Sam, your appointment on Tuesday at 10:00.",
    )


def test_a_nurse_without_the_permission_does_not_see_a_sensitive_message(
    organisation, make_staff, client_for, screening_message
):
    ordinary = _message(organisation, body="Your health check is tomorrow.")
    nurse = client_for(make_staff(organisation, StaffMember.Role.NURSE))

    response = nurse.get(reverse("message-log"))

    assert [row["message"].pk for row in response.context["rows"]] == [ordinary.pk]
    html = response.content.decode()
    assert "1 message" in html
    assert "your appointment on Tuesday" not in html
    assert the_one_entry().patient_ids == [ordinary.patient_id]


def test_a_discreet_message_without_a_booking_is_hidden_too(organisation, make_staff, client_for):
    _message(organisation, discreet=True, body="A reminder from the clinic.")
    nurse = client_for(make_staff(organisation, StaffMember.Role.NURSE))

    assert nurse.get(reverse("message-log")).context["rows"] == []
    assert web_entries() == []  # a page that names nobody is not logged


@pytest.mark.parametrize("role", [StaffMember.Role.COORDINATOR, StaffMember.Role.NURSE])
def test_staff_who_may_see_sensitive_services_read_the_message(
    organisation, make_staff, client_for, screening_message, role
):
    staff = make_staff(organisation, role)
    if role == StaffMember.Role.NURSE:
        grant_sensitive_services(staff.user)  # coordinators hold it by their role

    html = client_for(staff).get(reverse("message-log")).content.decode()

    assert "your appointment on Tuesday" in html


def test_the_log_logs_one_list_of_the_patients_it_names(organisation, coordinator_client):
    first, second = _message(organisation), _message(organisation)
    _message(organisation, patient=None, recipient_user=factories.UserFactory())  # to staff

    coordinator_client.get(reverse("message-log"))
    coordinator_client.get(reverse("message-log"), headers={"HX-Request": "true"})

    assert [(e.action, e.patient_id, e.patient_ids) for e in web_entries()] == [
        (AccessLogEntry.Action.LIST, None, sorted([first.patient_id, second.patient_id]))
    ] * 2


def test_the_log_writes_one_entry_however_many_messages_it_shows(organisation, coordinator_client):
    def log_queries():
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse("message-log")).status_code == 200
        return queries

    _message(organisation)
    log_queries()  # warm: the first request after signing in also reads the permissions
    one = log_queries()
    for _ in range(6):
        _message(organisation)
    many = log_queries()
    assert len(many) == len(one)
    assert log_inserts(one) == log_inserts(many) == 1


def test_a_coordinator_resends_a_failed_message(
    organisation, coordinator_client, django_capture_on_commit_callbacks
):
    failed = _message(
        organisation, status=Message.Status.FAILED, attempts=6, failure_detail="Bad number"
    )
    with django_capture_on_commit_callbacks():
        response = coordinator_client.post(
            reverse("message-log-resend", args=[failed.pk]), {"next": "?status=failed"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("message-log") + "?status=failed"
    failed.refresh_from_db()
    assert failed.status == Message.Status.SCHEDULED
    assert failed.attempts == 0


@pytest.mark.parametrize("status", [Message.Status.SCHEDULED, Message.Status.CANCELLED])
def test_only_a_failed_message_can_be_resent(organisation, coordinator_client, status):
    delivered = _message(organisation, status=status)
    response = coordinator_client.post(
        reverse("message-log-resend", args=[delivered.pk]),
        {"next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain[0][0] == reverse("message-log")
    assert "only a failed message can be sent again" in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == status


def test_a_nurse_cannot_resend_and_another_organisations_message_is_not_found(
    organisation, make_staff, client_for, coordinator_client
):
    failed = _message(organisation, status=Message.Status.FAILED)
    nurse = client_for(make_staff(organisation, StaffMember.Role.NURSE))
    assert nurse.post(reverse("message-log-resend", args=[failed.pk])).status_code == 403
    theirs = _message(factories.OrganisationFactory(), status=Message.Status.FAILED)
    assert (
        coordinator_client.post(reverse("message-log-resend", args=[theirs.pk])).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == Message.Status.FAILED
