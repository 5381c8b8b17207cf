"""Notify's callbacks (receipts, inbound texts) and the messages API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinics.models import ContactPoint
from clinics.services import SYSTEM_USERNAME
from outreach import services
from outreach.messaging import outbox
from outreach.models import Booking, InboundMessage, Message
from tests import factories
from tests.outreach.conftest import assert_error, post_json
from tests.outreach.messaging.conftest import THURSDAY_10

pytestmark = pytest.mark.django_db
Status = Message.Status
AUTH = {"HTTP_AUTHORIZATION": "Bearer callback-secret"}
RECEIPTS = "/api/v1/webhooks/notify/receipts/"
INBOUND = "/api/v1/webhooks/notify/inbound/"


@pytest.fixture
def sent_reminder(clock, later_session, patient, service, mobile):
    services.book_slot(
        patient=patient,
        session=later_session,
        service=service,
        by=factories.UserFactory(),
        starts_at=THURSDAY_10,
    )
    clock.move_to(THURSDAY_10 - timedelta(hours=48))
    (pk,) = outbox.claim_due()
    outbox.send_message(pk)
    return Message.objects.get(pk=pk)


def receipt(message, status, client):
    return post_json(
        client,
        RECEIPTS,
        {"id": message.provider_reference, "reference": f"outreach-{message.pk}", "status": status},
        **AUTH,
    )


def text(client, body, provider_id="in-1", number="07700 900123"):
    return post_json(
        client,
        INBOUND,
        {"id": provider_id, "source_number": number, "message": body, "date_received": None},
        **AUTH,
    )


def test_a_callback_without_the_token_is_refused(client):
    assert post_json(client, RECEIPTS, {"id": "x"}).status_code == 401
    response = post_json(client, INBOUND, {"id": "x"}, HTTP_AUTHORIZATION="Bearer wrong")
    assert_error(response, 401)


def test_a_delivery_receipt_marks_the_message_delivered(client, sent_reminder):
    response = receipt(sent_reminder, "delivered", client)

    assert response.json() == {"result": "delivered"}
    sent_reminder.refresh_from_db()
    assert sent_reminder.status == Status.DELIVERED
    assert sent_reminder.delivered_at is not None


def test_a_repeated_receipt_changes_nothing(client, sent_reminder):
    receipt(sent_reminder, "delivered", client)
    delivered_at = Message.objects.get(pk=sent_reminder.pk).delivered_at

    assert receipt(sent_reminder, "delivered", client).json() == {"result": "ignored"}
    assert Message.objects.get(pk=sent_reminder.pk).delivered_at == delivered_at


def test_a_late_failure_receipt_never_moves_a_delivered_message_back(client, sent_reminder):
    receipt(sent_reminder, "delivered", client)

    receipt(sent_reminder, "temporary-failure", client)

    assert Message.objects.get(pk=sent_reminder.pk).status == Status.DELIVERED


def test_a_permanent_failure_receipt_fails_the_message(client, sent_reminder):
    receipt(sent_reminder, "permanent-failure", client)

    failed = Message.objects.get(pk=sent_reminder.pk)
    assert (failed.status, failed.failure_permanent) == (Status.FAILED, True)


def test_replying_c_confirms_the_booking_with_history(client, sent_reminder, clock):
    response = text(client, " c ")

    assert response.json() == {"action": "confirmed"}
    reply = InboundMessage.objects.get()
    assert reply.booking_id == sent_reminder.booking_id
    assert reply.handled
    booking = Booking.objects.get(pk=sent_reminder.booking_id)
    assert (booking.status, booking.confirmed_at, booking.confirmed_via) == (
        Booking.Status.BOOKED,
        timezone.now(),
        Booking.ConfirmedVia.TEXT_REPLY,
    )
    latest = booking.history.first()
    assert latest.history_change_reason == "Confirmed by text reply"
    assert latest.history_user.username == SYSTEM_USERNAME


def test_a_second_yes_keeps_the_first_confirmation(client, sent_reminder, clock):
    text(client, "YES", provider_id="in-1")
    first = Booking.objects.get(pk=sent_reminder.booking_id).confirmed_at
    clock.shift(timedelta(hours=1))

    assert text(client, "Yes!", provider_id="in-2").json() == {"action": "confirmed"}
    booking = Booking.objects.get(pk=sent_reminder.booking_id)
    assert booking.confirmed_at == first
    assert booking.history.filter(history_change_reason="Confirmed by text reply").count() == 1


def test_a_yes_to_a_cancelled_booking_is_refused_and_shown_to_a_coordinator(client, sent_reminder):
    booking = Booking.objects.get(pk=sent_reminder.booking_id)
    services.cancel_booking(booking, by=None, cancelled_by="service", reason="Nurse ill")

    assert text(client, "C").json() == {"action": "unknown"}
    reply = InboundMessage.objects.get()
    assert (reply.handled, reply.note) == (False, "Not confirmed: this appointment is cancelled.")
    assert Booking.objects.get(pk=booking.pk).confirmed_at is None


def test_a_yes_after_the_appointment_is_refused_and_shown_to_a_coordinator(
    client, sent_reminder, clock
):
    clock.move_to(THURSDAY_10 + timedelta(minutes=5))

    assert text(client, "yes").json() == {"action": "unknown"}
    reply = InboundMessage.objects.get()
    assert (reply.handled, reply.note) == (
        False,
        "Not confirmed: this appointment's time has passed.",
    )
    assert Booking.objects.get(pk=sent_reminder.booking_id).confirmed_at is None


def test_the_booking_api_shows_the_confirmation_read_only(
    client, sent_reminder, nurse_client, clock
):
    text(client, "C")
    url = f"/api/v1/bookings/{sent_reminder.booking_id}/"

    shown = nurse_client.get(url).json()
    assert parse_datetime(shown["confirmed_at"]) == timezone.now()
    assert shown["confirmed_via"] == "text_reply"
    nurse_client.patch(
        url, {"confirmed_at": None, "confirmed_via": ""}, content_type="application/json"
    )
    assert Booking.objects.get(pk=sent_reminder.booking_id).confirmed_at is not None


def test_replying_x_cancels_the_booking_through_the_service(client, sent_reminder):
    text(client, "CANCEL")

    booking = Booking.objects.get(pk=sent_reminder.booking_id)
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_by == Booking.CancelledBy.PATIENT
    # The other reminder went with it.
    assert not Message.objects.filter(booking=booking, status=Status.SCHEDULED).exists()
    assert booking.history.first().history_change_reason.startswith("Cancelled by the patient")


def test_replying_stop_opts_the_number_out(client, sent_reminder, mobile):
    text(client, "STOP")

    mobile.refresh_from_db()
    assert mobile.opted_out_at is not None
    waiting = Message.objects.get(booking=sent_reminder.booking, idempotency_key__endswith=":2h")
    assert (waiting.status, waiting.suppressed_reason) == (Status.SUPPRESSED, "opted_out")


def test_an_unknown_reply_waits_for_a_coordinator(client, sent_reminder):
    text(client, "Can I bring my dog?")

    reply = InboundMessage.objects.get()
    assert (reply.action, reply.handled) == (InboundMessage.Action.UNKNOWN, False)
    assert Booking.objects.get(pk=sent_reminder.booking_id).status == Booking.Status.BOOKED


def test_a_repeated_inbound_callback_acts_once(client, sent_reminder):
    text(client, "X")
    text(client, "X")

    assert InboundMessage.objects.count() == 1


def test_messages_are_listed_for_a_patient(
    coordinator_client, patient, organisation, django_assert_max_num_queries
):
    for n in range(5):
        factories.MessageFactory(
            organisation=organisation, patient=patient, idempotency_key=f"l{n}"
        )
    factories.MessageFactory(organisation=organisation)
    factories.MessageFactory(patient=factories.PatientFactory())  # another organisation's

    # The page's one access log entry is one of them on PostgreSQL, two on SQLite.
    with django_assert_max_num_queries(10):
        response = coordinator_client.get(f"/api/v1/messages/?patient={patient.pk}")

    body = response.json()
    assert len(body["results"]) == 5  # cursor pages: no count, a `next` link when there is more
    assert body["next"] is None
    assert body["results"][0]["to"].endswith("0123")
    assert "+44770090" not in body["results"][0]["to"]


def test_another_organisations_message_is_not_found(coordinator_client):
    other = factories.MessageFactory()

    assert coordinator_client.get(f"/api/v1/messages/{other.pk}/").status_code == 404


def test_a_failed_message_can_be_resent(
    coordinator_client, organisation, patient, no_enqueue, django_capture_on_commit_callbacks
):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, status=Status.FAILED
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(coordinator_client, f"/api/v1/messages/{message.pk}/resend/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.SCHEDULED
    assert no_enqueue == [message.pk]


def test_a_sent_message_cannot_be_resent(coordinator_client, organisation, patient):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, status=Status.SENT, sent_at=timezone.now()
    )

    response = post_json(coordinator_client, f"/api/v1/messages/{message.pk}/resend/")

    assert_error(response, 409, "illegal_transition")


def test_resending_is_rate_limited(coordinator_client, organisation, patient, no_enqueue):
    message = factories.MessageFactory(organisation=organisation, patient=patient)

    codes = [
        post_json(coordinator_client, f"/api/v1/messages/{message.pk}/resend/").status_code
        for _ in range(11)
    ]

    assert codes[-1] == 429


def test_a_nurse_cannot_resend(nurse_client, organisation, patient):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, status=Status.FAILED
    )

    assert post_json(nurse_client, f"/api/v1/messages/{message.pk}/resend/").status_code == 403


def test_an_sms_contact_matching_is_by_normalised_number(patient, organisation):
    factories.ContactPointFactory(patient=patient, value="07700 900999")

    assert outbox.contact_problem(patient, ContactPoint.Channel.SMS, "+447700900999") == ""


def test_a_receipt_for_a_message_still_being_recorded_asks_notify_to_retry(client, sent_reminder):
    Message.objects.filter(pk=sent_reminder.pk).update(status=Status.SENDING)

    response = receipt(sent_reminder, "delivered", client)

    assert response.status_code == 503
    assert Message.objects.get(pk=sent_reminder.pk).status == Status.SENDING


def test_a_staff_digest_goes_to_the_users_email(organisation, no_enqueue):
    coordinator = factories.UserFactory(email="coord@example.nhs.uk")

    message = outbox.queue_message(
        organisation=organisation,
        idempotency_key="digest:1",
        purpose="referral_digest",
        recipient_user=coordinator,
        subject="Overdue referrals",
        body="2 referrals are overdue.",
    )

    assert (message.channel, message.to, message.status) == (
        "email",
        "coord@example.nhs.uk",
        "scheduled",
    )


def test_a_staff_session_gets_the_callbacks_own_answers_not_two_factor(coordinator):
    from django.test import Client

    # Signed in but not past two-factor: every other API call is `two_factor_required`...
    client = Client()
    client.force_login(coordinator.user)
    assert_error(client.get("/api/v1/patients/"), 403, "two_factor_required")
    # ...but the callbacks take Notify's token, never a session, so two-factor is not theirs.
    for url in (RECEIPTS, INBOUND):
        assert client.generic("TRACE", url).status_code == 405
        assert_error(post_json(client, url, {"id": "x"}), 401)
        assert post_json(client, url, {"id": "x"}, **AUTH).status_code == 200


@pytest.mark.parametrize("url", [RECEIPTS, INBOUND])
@pytest.mark.parametrize("body", ["[1, 2]", '"in-1"', "null"], ids=["list", "string", "null"])
def test_a_callback_body_that_is_not_an_object_is_a_400(client, url, body):
    response = client.post(url, body, content_type="application/json", **AUTH)
    assert_error(response, 400, "invalid")
