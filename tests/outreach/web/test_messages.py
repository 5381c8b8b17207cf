"""The message log: delivery statuses, filters, sensitive wording kept back, resending."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from clinics.models import StaffMember
from outreach.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


def _message(organisation, **fields):
    return factories.MessageFactory(organisation=organisation, **fields)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (StaffMember.Role.COORDINATOR, 200),
        (StaffMember.Role.NURSE, 200),
        (StaffMember.Role.ANALYST, 403),
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


def test_a_sensitive_message_body_is_kept_from_staff_who_do_not_deliver_it(
    organisation, make_staff, client_for
):
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    booking = factories.BookingFactory(session__organisation=organisation, service_type=screening)
    _message(
        organisation,
        patient=booking.patient,
        booking=booking,
        discreet=True,
        body="Hi Sam, your appointment on Tuesday at 10:00.",
    )
    coordinator = client_for(make_staff(organisation, StaffMember.Role.COORDINATOR))
    html = coordinator.get(reverse("message-log")).content.decode()
    assert "your appointment on Tuesday" not in html
    assert "the wording is shown only to staff who deliver it" in html

    sample_taker = make_staff(organisation, StaffMember.Role.NURSE)
    sample_taker.competencies.add(screening)
    html = client_for(sample_taker).get(reverse("message-log")).content.decode()
    assert "your appointment on Tuesday" in html


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
