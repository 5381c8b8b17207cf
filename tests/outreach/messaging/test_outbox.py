"""The outbox and reminders, one rule per test, with the fake gateway and a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinics.models import ContactPoint
from outreach import services
from outreach.messaging import outbox
from outreach.messaging.gateways import TransportError
from outreach.messaging.rendering import render, validate_template
from outreach.models import Booking, Message, MessageTemplate
from tests import factories
from tests.outreach.messaging.conftest import THURSDAY_10

pytestmark = pytest.mark.django_db
Status = Message.Status


def book(session, patient, service, nurse_user=None):
    by = nurse_user or factories.UserFactory()
    booking, _ = services.book_slot(
        patient=patient, session=session, service=service, by=by, starts_at=session.starts_at
    )
    return booking


def reminders_of(booking):
    return list(Message.objects.filter(booking=booking, purpose="reminder").order_by("send_after"))


def send_due(now=None):
    ids = outbox.claim_due(now=now)
    return [outbox.send_message(pk, now=now).status for pk in ids]


def test_a_booking_writes_its_reminders_48_and_2_hours_before(
    later_session, patient, service, mobile, no_enqueue
):
    booking = book(later_session, patient, service)

    rows = reminders_of(booking)
    assert [row.idempotency_key for row in rows] == [
        f"booking:{booking.pk}:reminder:48h",
        f"booking:{booking.pk}:reminder:2h",
    ]
    assert [row.send_after for row in rows] == [
        THURSDAY_10 - timedelta(hours=48),
        THURSDAY_10 - timedelta(hours=2),
    ]
    assert all(row.status == Status.SCHEDULED and row.expires_at == THURSDAY_10 for row in rows)
    assert all(row.to == "+447700900123" for row in rows)
    # Nothing is handed to Celery for a message due in days: the sweep finds it.
    assert no_enqueue == []


def test_reminders_roll_back_with_a_booking_that_fails(later_session, patient, service, mobile):
    def book_then_fail():
        with transaction.atomic():
            book(later_session, patient, service)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        book_then_fail()

    assert not Message.objects.exists()


def test_a_service_type_can_have_its_own_reminder_offsets(later_session, patient, service, mobile):
    service.reminder_offsets_hours = [24]
    service.save()

    booking = book(later_session, patient, service)

    assert [m.send_after for m in reminders_of(booking)] == [THURSDAY_10 - timedelta(hours=24)]


def test_a_reminder_whose_time_has_passed_is_not_written(session, patient, service, mobile):
    # The session is tomorrow at 10:00: 48 hours before is already gone.
    booking = book(session, patient, service)

    assert [m.idempotency_key for m in reminders_of(booking)] == [
        f"booking:{booking.pk}:reminder:2h"
    ]


def test_the_sweep_sends_a_due_reminder_once(
    clock, later_session, patient, service, mobile, fake_gateway
):
    booking = book(later_session, patient, service)
    clock.move_to(THURSDAY_10 - timedelta(hours=48))

    assert send_due() == [Status.SENT]
    assert send_due() == []
    first = reminders_of(booking)[0]
    assert first.status == Status.SENT
    assert first.sent_at == timezone.now()
    assert len(fake_gateway.sent) == 1
    assert fake_gateway.sent[0].reference == f"outreach-{first.pk}"
    assert "Cathedral Square" not in fake_gateway.sent[0].reference


def test_a_message_task_delivered_twice_sends_once(
    clock, later_session, patient, service, mobile, fake_gateway
):
    booking = book(later_session, patient, service)
    clock.move_to(THURSDAY_10 - timedelta(hours=48))
    pk = reminders_of(booking)[0].pk

    assert outbox.send_message(pk).status == Status.SENT
    assert outbox.send_message(pk).status == "skipped"
    assert len(fake_gateway.sent) == 1


def test_two_sweeps_at_once_lease_different_rows(clock, later_session, patient, service, mobile):
    book(later_session, patient, service)
    clock.move_to(THURSDAY_10)

    first = outbox.claim_due()
    second = outbox.claim_due()

    assert len(first) == 2
    assert second == []


def test_no_consent_for_the_channel_suppresses(later_session, patient, service):
    factories.ContactPointFactory(patient=patient, consent_given=False, consent_recorded_at=None)

    booking = book(later_session, patient, service)

    assert {(m.status, m.suppressed_reason) for m in reminders_of(booking)} == {
        (Status.SUPPRESSED, Message.SuppressedReason.NO_CONSENT)
    }


def test_an_opted_out_number_suppresses(later_session, patient, service, mobile):
    mobile.opted_out_at = timezone.now()
    mobile.save()

    booking = book(later_session, patient, service)

    assert {m.suppressed_reason for m in reminders_of(booking)} == {"opted_out"}


def test_no_contact_details_suppresses(later_session, patient, service):
    booking = book(later_session, patient, service)

    assert {m.suppressed_reason for m in reminders_of(booking)} == {"no_contact"}


def test_an_opt_out_after_scheduling_stops_the_send(
    clock, later_session, patient, service, mobile, fake_gateway
):
    booking = book(later_session, patient, service)
    ContactPoint.objects.filter(pk=mobile.pk).update(opted_out_at=timezone.now())
    clock.move_to(THURSDAY_10 - timedelta(hours=48))

    assert send_due() == [Status.SUPPRESSED]
    assert reminders_of(booking)[0].suppressed_reason == "opted_out"
    assert fake_gateway.sent == []


def test_email_is_used_when_it_is_the_only_consented_channel(later_session, patient, service):
    factories.ContactPointFactory(
        patient=patient, channel=ContactPoint.Channel.EMAIL, value="sam@example.org"
    )

    booking = book(later_session, patient, service)

    assert {(m.channel, m.to) for m in reminders_of(booking)} == {("email", "sam@example.org")}


def test_a_text_due_in_quiet_hours_waits_until_eight_in_london(
    later_session, patient, service, mobile
):
    # A 22:30 appointment-eve text (48 h before a 22:30 booking would be 22:30 London).
    message = outbox.queue_message(
        organisation=later_session.organisation,
        idempotency_key="quiet",
        body="Hello",
        patient=patient,
        send_after=datetime(2026, 6, 1, 21, 30, tzinfo=UTC),  # 22:30 London
    )

    assert message.send_after == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # 08:00 London


def test_an_email_is_not_held_by_quiet_hours(later_session, patient, service):
    factories.ContactPointFactory(
        patient=patient, channel=ContactPoint.Channel.EMAIL, value="sam@example.org"
    )
    at = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)

    message = outbox.queue_message(
        organisation=later_session.organisation,
        idempotency_key="email",
        body="Hello",
        patient=patient,
        send_after=at,
    )

    assert message.send_after == at


def test_a_retried_text_that_falls_due_at_night_is_put_back(
    clock, organisation, patient, mobile, fake_gateway
):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    night = datetime(2026, 6, 1, 22, 0, tzinfo=UTC)  # 23:00 London
    clock.move_to(night)

    assert outbox.send_message(message.pk).status == Status.SCHEDULED
    message.refresh_from_db()
    assert message.send_after == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    assert message.attempts == 0
    assert fake_gateway.sent == []


def test_a_reminder_whose_appointment_has_passed_expires(
    clock, later_session, patient, service, mobile, fake_gateway
):
    booking = book(later_session, patient, service)
    clock.move_to(THURSDAY_10 + timedelta(minutes=1))

    assert sorted(send_due()) == [Status.EXPIRED, Status.EXPIRED]
    assert fake_gateway.sent == []
    assert {m.status for m in reminders_of(booking)} == {Status.EXPIRED}


def test_cancelling_a_booking_cancels_its_reminders(
    later_session, patient, service, mobile, no_enqueue
):
    booking = book(later_session, patient, service)

    services.cancel_booking(booking, by=None, cancelled_by="patient", reason="Busy")

    assert {m.status for m in reminders_of(booking)} == {Status.CANCELLED}
    # The patient cancelled: they are not told what they already know.
    assert not Message.objects.filter(booking=booking, purpose="cancellation").exists()


def test_a_cancellation_by_the_service_tells_the_patient_now(
    later_session, patient, service, mobile, no_enqueue, django_capture_on_commit_callbacks
):
    booking = book(later_session, patient, service)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(booking, by=None, cancelled_by="service", reason="Nurse ill")

    news = Message.objects.get(booking=booking, purpose="cancellation")
    assert news.status == Status.SCHEDULED
    assert news.send_after == timezone.now()
    assert no_enqueue == [news.pk]


def test_rescheduling_rebuilds_the_reminders(later_session, patient, service, mobile):
    booking = book(later_session, patient, service)

    moved = services.reschedule_booking(
        booking, by=factories.UserFactory(), starts_at=THURSDAY_10 + timedelta(hours=1)
    )

    assert {m.status for m in reminders_of(booking)} == {Status.CANCELLED}
    assert [m.send_after for m in reminders_of(moved)] == [
        THURSDAY_10 + timedelta(hours=1 - 48),
        THURSDAY_10 + timedelta(hours=1 - 2),
    ]


def test_checking_in_clears_the_reminders(clock, later_session, patient, service, mobile):
    booking = book(later_session, patient, service)
    clock.move_to(THURSDAY_10 - timedelta(hours=3))

    services.check_in(booking, by=None)

    assert {m.status for m in reminders_of(booking)} == {Status.CANCELLED}


def test_a_reminder_for_a_booking_no_longer_booked_is_not_sent(
    clock, later_session, patient, service, mobile, fake_gateway
):
    booking = book(later_session, patient, service)
    # A status change that does not go through cancel_booking (entered in error).
    services.move_booking(booking, Booking.Status.ENTERED_IN_ERROR, by=None, reason="Mistake")
    clock.move_to(THURSDAY_10 - timedelta(hours=48))

    assert send_due() == [Status.CANCELLED]
    assert fake_gateway.sent == []


def test_a_cancelled_session_tells_every_booked_patient_at_once(
    later_session, service, no_enqueue, django_capture_on_commit_callbacks
):
    patients = []
    for minutes in (0, 15, 30):
        person = factories.PatientFactory(organisation=later_session.organisation)
        factories.ContactPointFactory(patient=person)
        services.book_slot(
            patient=person,
            session=later_session,
            service=service,
            by=factories.UserFactory(),
            starts_at=THURSDAY_10 + timedelta(minutes=minutes),
        )
        patients.append(person)

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(later_session, by=None, reason="The bus broke down")

    news = Message.objects.filter(purpose="session_cancelled")
    assert sorted(m.patient_id for m in news) == sorted(p.pk for p in patients)
    assert {m.send_after for m in news} == {timezone.now()}
    assert sorted(no_enqueue) == sorted(m.pk for m in news)
    assert not Message.objects.filter(purpose="cancellation").exists()
    assert not Message.objects.filter(purpose="reminder", status=Status.SCHEDULED).exists()


def test_a_sensitive_service_gets_the_discreet_wording(later_session, patient, service, mobile):
    service.sensitive = True
    service.name = "Cervical screening"
    service.save()

    booking = book(later_session, patient, service)

    for message in reminders_of(booking):
        assert message.discreet
        assert "Cervical" not in message.body
        assert later_session.venue.name not in message.body
        assert "Cathedral Square" not in message.body
        assert "Thursday 4 June" in message.body


def test_an_admin_template_is_used_when_there_is_one(later_session, patient, service, mobile):
    MessageTemplate.objects.create(
        name="Reminder",
        purpose="reminder",
        channel="sms",
        body="See you {{ date }} at {{ time }}, {{ first_name }}.",
    )

    booking = book(later_session, patient, service)

    assert reminders_of(booking)[0].body == "See you Thursday 4 June at 10:00, Sam."


def test_an_email_reminder_takes_the_email_template_read_with_the_sessions_lock(
    later_session, patient, service
):
    factories.ContactPointFactory(
        patient=patient, channel=ContactPoint.Channel.EMAIL, value="sam@example.org"
    )
    factories.MessageTemplateFactory(body="A text, {{ first_name }}.")
    email = factories.MessageTemplateFactory(
        channel=ContactPoint.Channel.EMAIL, subject="Your visit", body="An email, {{ first_name }}."
    )

    booking = book(later_session, patient, service)

    assert {(m.channel, m.template_id, m.subject, m.body) for m in reminders_of(booking)} == {
        (ContactPoint.Channel.EMAIL, email.pk, "Your visit", "An email, Sam.")
    }


def test_templates_already_read_are_used_and_a_missing_channel_is_read():
    sms = factories.MessageTemplateFactory(subject="", body="Read now")
    known = {ContactPoint.Channel.EMAIL: None}

    assert outbox.render_for("reminder", "email", discreet=False, known=known)[0] is None
    assert outbox.render_for("reminder", "sms", discreet=False, known=known) == (
        sms,
        "",
        "Read now",
    )
    stale = {ContactPoint.Channel.SMS: None}
    assert outbox.render_for("reminder", "sms", discreet=False, known=stale)[0] is None


@pytest.mark.parametrize(
    "send",
    [
        "one",
        # A chunk calls the provider from its send threads, whose database connections only
        # see committed rows: this one needs real transactions.
        pytest.param(
            "batch", marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
        ),
    ],
)
def test_two_workers_sending_to_one_person_at_once_keep_the_daily_cap(
    clock, organisation, patient, mobile, fake_gateway, send
):
    def send_now(pk):
        if send == "one":
            return outbox.send_message(pk).status
        return outbox.send_batch([pk])[0].status

    for n in range(2):
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=mobile.value,
            status=Status.SENT,
            send_after=timezone.now() - timedelta(hours=1),
            sent_at=timezone.now() - timedelta(hours=1),
            idempotency_key=f"earlier:{n}",
        )
    first, second = (
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=mobile.value,
            send_after=timezone.now(),
            idempotency_key=f"now:{n}",
        )
        for n in range(2)
    )
    meanwhile: list[str] = []

    def another_worker(message):
        # While the first text is at the provider, another worker sends the second.
        if message.reference == outbox.reference_for(first) and not meanwhile:
            meanwhile.append(send_now(second.pk))

    fake_gateway.during_send.append(another_worker)

    assert send_now(first.pk) == Status.SENT
    assert meanwhile == [Status.SUPPRESSED]
    assert Message.objects.get(pk=second.pk).suppressed_reason == "daily_cap"
    assert [m.reference for m in fake_gateway.sent] == [outbox.reference_for(first)]


def test_a_text_put_back_no_longer_counts_towards_the_daily_cap(
    clock, organisation, patient, mobile, fake_gateway
):
    failing = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.append(TransportError("Notify answered 503"))

    assert outbox.send_message(failing.pk).status == Status.SCHEDULED
    assert Message.objects.get(pk=failing.pk).sent_at is None


def test_the_daily_cap_suppresses_the_fourth_message(
    clock, organisation, patient, mobile, fake_gateway
):
    for n in range(4):
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=mobile.value,
            send_after=timezone.now(),
            idempotency_key=f"cap:{n}",
        )

    assert sorted(send_due()) == sorted([Status.SENT] * 3 + [Status.SUPPRESSED])
    assert Message.objects.get(status=Status.SUPPRESSED).suppressed_reason == "daily_cap"
    assert len(fake_gateway.sent) == 3


def test_rows_written_by_another_app_are_sent_by_the_sweep(clock, organisation, fake_gateway):
    coordinator = factories.UserFactory()
    Message.objects.create(
        organisation=organisation,
        recipient_user=coordinator,
        channel="email",
        to="coordinator@example.nhs.uk",
        subject="Overdue referrals",
        body="3 referrals are overdue.",
        send_after=timezone.now(),
        idempotency_key="referrals:digest:2026-06-01",
    )

    assert send_due() == [Status.SENT]
    assert fake_gateway.sent[0].to == "coordinator@example.nhs.uk"


def test_queueing_the_same_key_twice_writes_one_row(organisation, patient, mobile, no_enqueue):
    first = outbox.queue_message(
        organisation=organisation, idempotency_key="once", body="Hi", patient=patient
    )
    second = outbox.queue_message(
        organisation=organisation, idempotency_key="once", body="Hi again", patient=patient
    )

    assert first.pk == second.pk
    assert Message.objects.count() == 1


def test_a_temporary_failure_is_retried_with_backoff(
    clock, organisation, patient, mobile, fake_gateway
):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.append(TransportError("Notify answered 503"))

    outcome = outbox.send_message(message.pk)

    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
    assert 15 <= outcome.retry_in <= 30
    assert message.send_after == timezone.now() + timedelta(seconds=outcome.retry_in)
    clock.shift(timedelta(seconds=31))
    assert outbox.send_message(message.pk).status == Status.SENT
    assert len(fake_gateway.sent) == 1


def test_backoff_stays_far_below_the_visibility_timeout():
    assert max(outbox.backoff_seconds(attempt) for attempt in range(1, 30)) <= 900


def test_a_permanent_failure_is_not_retried(clock, organisation, patient, mobile, fake_gateway):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.append(TransportError("Notify answered 400", permanent=True))

    assert outbox.send_message(message.pk).status == Status.FAILED
    message.refresh_from_db()
    assert message.failure_permanent


def test_after_too_many_attempts_a_message_fails(
    clock, settings, organisation, patient, mobile, fake_gateway
):
    settings.OUTREACH_MESSAGE_MAX_ATTEMPTS = 2
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.extend([TransportError("503"), TransportError("503")])

    outbox.send_message(message.pk)
    clock.shift(timedelta(minutes=2))
    assert outbox.send_message(message.pk).status == Status.FAILED
    message.refresh_from_db()
    assert not message.failure_permanent


def test_after_a_timeout_the_message_is_looked_up_not_resent(
    clock, organisation, patient, mobile, fake_gateway
):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.append(TransportError("timed out", uncertain=True))

    outbox.send_message(message.pk)
    clock.shift(timedelta(minutes=2))
    assert outbox.send_message(message.pk).status == Status.SENT

    assert len(fake_gateway.sent) == 1
    message.refresh_from_db()
    assert message.provider_reference == "fake-found-0"


def test_a_message_abandoned_in_sending_is_recovered_after_its_lease(
    clock, settings, organisation, patient, mobile, fake_gateway
):
    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    # A worker claimed it and died before it could call the gateway.
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_at=timezone.now(), attempts=1
    )
    assert outbox.claim_due() == []
    clock.shift(timedelta(seconds=settings.OUTREACH_SENDING_LEASE_SECONDS + 1))

    assert send_due() == [Status.SENT]
    assert len(fake_gateway.sent) == 1


def test_the_rate_limit_puts_messages_back_to_the_next_minute(
    clock, settings, organisation, patient, mobile, fake_gateway
):
    settings.OUTREACH_NOTIFY_RATE_PER_MINUTE = 1
    settings.OUTREACH_DAILY_MESSAGE_CAP = 10
    for n in range(2):
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=mobile.value,
            send_after=timezone.now(),
            idempotency_key=f"rate:{n}",
        )

    assert sorted(send_due()) == [Status.SCHEDULED, Status.SENT]
    waiting = Message.objects.get(status=Status.SCHEDULED)
    assert waiting.send_after == timezone.now().replace(second=0) + timedelta(minutes=1)


def test_a_booking_succeeds_when_the_broker_is_down(
    monkeypatch, later_session, patient, service, mobile
):
    from outreach.tasks import send_message_task

    def broker_down(*args, **kwargs):
        raise OSError("Connection refused")

    monkeypatch.setattr(send_message_task, "apply_async", broker_down)
    booking = book(later_session, patient, service)
    with transaction.atomic():
        services.cancel_booking(booking, by=None, cancelled_by="service", reason="Nurse ill")

    # The message waits in the outbox for the sweep.
    news = Message.objects.get(booking=booking, purpose="cancellation")
    assert news.status == Status.SCHEDULED
    assert outbox.claim_due() == [news.pk]


def test_a_stopped_broker_is_tried_once_not_once_per_message(
    clock, monkeypatch, django_capture_on_commit_callbacks, organisation, patient, mobile
):
    from outreach.tasks import send_message_task

    attempts: list[int] = []

    def broker_down(args, **kwargs):
        # Each attempt against a stopped Redis costs seconds of the client's connect retries.
        attempts.append(args[0])
        raise OSError("Connection refused")

    monkeypatch.setattr(send_message_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        queued = [
            outbox.queue_message(
                organisation=organisation, patient=patient, idempotency_key=f"news:{n}", body="Hi"
            )
            for n in range(5)
        ]

    assert attempts == [queued[0].pk]
    assert {message.status for message in queued} == {Status.SCHEDULED}
    assert sorted(outbox.claim_due()) == sorted(message.pk for message in queued)


def test_the_renderer_only_fills_placeholders():
    assert render(
        "Hi {{ first_name }} {{ secret.__class__ }} {% load x %}", {"first_name": "Sam"}
    ) == ("Hi Sam {{ secret.__class__ }} {% load x %}")


def test_a_text_longer_than_918_characters_is_refused():
    with pytest.raises(ValidationError, match="918"):
        validate_template("x" * 919, channel="sms", discreet=False)
    validate_template("x" * 919, channel="email", discreet=False)


def test_a_discreet_template_may_not_name_the_venue():
    with pytest.raises(ValidationError, match="discreet"):
        validate_template("See you at {{ venue }}", channel="sms", discreet=True)


def test_an_unknown_placeholder_is_refused_when_saved():
    template = MessageTemplate(
        name="x", purpose="reminder", channel="sms", body="Hi {{ nhs_number }}"
    )
    with pytest.raises(ValidationError, match="Unknown"):
        template.full_clean()


def _due_messages(organisation, patient, mobile, count):
    return [
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=mobile.value,
            send_after=timezone.now(),
            idempotency_key=f"batch:{n}",
        ).pk
        for n in range(count)
    ]


def test_a_batch_sends_each_message_once_and_keeps_the_cap(
    clock, organisation, patient, mobile, fake_gateway
):
    ids = _due_messages(organisation, patient, mobile, 4)

    outcomes = outbox.send_batch(ids)

    assert sorted(o.status for o in outcomes) == sorted([Status.SENT] * 3 + [Status.SUPPRESSED])
    assert [o.status for o in outbox.send_batch(ids)] == ["skipped"] * 4
    assert len(fake_gateway.sent) == 3


def test_a_worker_killed_mid_batch_sends_nothing_twice(
    clock, settings, organisation, patient, mobile, fake_gateway, monkeypatch
):
    settings.OUTREACH_DAILY_MESSAGE_CAP = 10
    ids = _due_messages(organisation, patient, mobile, 3)
    real_send = fake_gateway.send
    calls = []

    def dies_on_the_second(self, message):
        calls.append(message.reference)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_send(self, message)

    monkeypatch.setattr(fake_gateway, "send", dies_on_the_second)
    with pytest.raises(SystemExit):
        outbox.send_batch(ids)
    monkeypatch.setattr(fake_gateway, "send", real_send)
    # The first was sent and marked; the others wait in "sending" for the lease to pass.
    assert Message.objects.filter(status=Status.SENDING).count() == 2
    clock.shift(timedelta(seconds=settings.OUTREACH_SENDING_LEASE_SECONDS + 1))

    outbox.send_batch(outbox.claim_due())

    assert sorted(m.reference for m in fake_gateway.sent) == sorted(f"outreach-{pk}" for pk in ids)
    assert Message.objects.filter(status=Status.SENT).count() == 3


def test_quiet_hours_end_at_eight_london_time_across_the_clock_change():
    from outreach.messaging.clock import after_quiet_hours

    # 22:30 BST on Saturday 24 October 2026; the clocks go back that night.
    late = datetime(2026, 10, 24, 21, 30, tzinfo=UTC)

    assert after_quiet_hours(late) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 08:00 GMT


def test_the_send_task_retries_within_the_visibility_timeout(
    clock, organisation, patient, mobile, fake_gateway
):
    from celery.exceptions import Retry

    from outreach.tasks import send_message_task

    message = factories.MessageFactory(
        organisation=organisation, patient=patient, to=mobile.value, send_after=timezone.now()
    )
    fake_gateway.fail_next.append(TransportError("Notify answered 429"))

    with pytest.raises(Retry) as retried:
        send_message_task.apply(args=(message.pk,), throw=True)

    assert 0 < retried.value.when <= 900
    assert send_message_task.acks_late


def test_the_file_gateway_writes_one_json_line_and_finds_it_again(settings, tmp_path):
    import json

    from outreach.messaging.gateways import Outgoing
    from outreach.messaging.gateways.file import FileGateway

    settings.OUTREACH_MESSAGE_FILE = str(tmp_path / "messages.jsonl")
    gateway = FileGateway()

    provider_id = gateway.send(Outgoing("outreach-7", "sms", "+447700900123", "", "Hi"))

    line = json.loads((tmp_path / "messages.jsonl").read_text())
    assert (line["reference"], line["body"]) == ("outreach-7", "Hi")
    assert gateway.lookup("outreach-7") == provider_id
