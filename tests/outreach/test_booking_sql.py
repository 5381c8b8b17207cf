"""The booking's hand-written statements write and read what the ORM would."""

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords

from clinics.models import ContactPoint
from outreach import booking_sql
from outreach.models import Booking, Message, MessageTemplate
from tests import factories
from tests.factories import BASE_TIME

pytestmark = pytest.mark.django_db

Purpose = MessageTemplate.Purpose


def _message(organisation, patient, key, **extra):
    return Message(
        organisation=organisation,
        patient=patient,
        channel=ContactPoint.Channel.SMS,
        to="+447700900123",
        body="See you tomorrow.",
        send_after=BASE_TIME,
        idempotency_key=key,
        **extra,
    )


def test_inserted_rows_get_their_ids_defaults_and_timestamps(organisation, patient):
    first = _message(organisation, patient, "raw:1")
    second = _message(organisation, patient, "raw:2", subject="Hello", discreet=True)

    with CaptureQueriesContext(connection) as captured:
        booking_sql.insert_rows([first, second])

    assert len(captured) == 1
    assert first.pk
    assert second.pk
    assert first.pk != second.pk
    assert not first._state.adding
    for made in (first, second):
        stored = Message.objects.get(pk=made.pk)
        assert stored.idempotency_key == made.idempotency_key
        assert stored.subject == made.subject
        assert stored.discreet is made.discreet
        # The model's defaults and auto_now stamps were written, as `bulk_create` writes them.
        assert stored.status == Message.Status.SCHEDULED
        assert stored.attempts == 0
        assert stored.created_at is not None
        assert stored.created_at == made.created_at


def test_an_empty_insert_runs_nothing():
    with CaptureQueriesContext(connection) as captured:
        booking_sql.insert_rows([])
    assert len(captured) == 0


def test_the_active_template_is_found():
    factories.MessageTemplateFactory(body="Switched off", is_active=False)
    active = factories.MessageTemplateFactory(body="Current")
    factories.MessageTemplateFactory(body="Discreet", discreet=True)
    factories.MessageTemplateFactory(body="Email", channel=ContactPoint.Channel.EMAIL)

    found = booking_sql.active_template(Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=False)

    assert found == active
    assert found.body == "Current"
    assert found.is_active is True
    assert found.discreet is False
    assert found.updated_at == active.updated_at
    discreet = booking_sql.active_template(
        Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=True
    )
    assert discreet.body == "Discreet"
    assert discreet.discreet is True


def test_no_active_template_is_none():
    factories.MessageTemplateFactory(is_active=False)
    assert (
        booking_sql.active_template(Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=False)
        is None
    )


def test_a_booking_inserted_by_hand_has_the_history_its_save_would_make(
    session, patient, service, nurse
):
    user = nurse.user
    saved = factories.BookingFactory.build(
        session=session, patient=patient, service_type=service, booked_by=user
    )
    saved._history_user, saved._change_reason = user, "Booked"
    saved.save()
    other = factories.PatientFactory(organisation=patient.organisation)
    by_hand = factories.BookingFactory.build(
        session=session,
        patient=other,
        service_type=service,
        booked_by=user,
        starts_at=saved.ends_at,
        ends_at=saved.ends_at + (saved.ends_at - saved.starts_at),
    )

    booking_sql.insert_with_history(by_hand, user=user, reason="Booked")

    stored = Booking.objects.get(pk=by_hand.pk)
    assert stored.created_at == by_hand.created_at
    assert stored.updated_at is not None
    ignored = {"id", "history_id", "history_date", "patient_id", "starts_at", "ends_at"}
    ignored |= {"created_at", "idempotency_key"}

    def row(booking):
        (entry,) = booking.history.all()
        return {
            field.attname: getattr(entry, field.attname)
            for field in entry._meta.concrete_fields
            if field.attname not in ignored
        }

    assert row(stored) == row(saved)
    (entry,) = stored.history.all()
    assert entry.id == stored.pk
    assert entry.history_type == "+"
    assert entry.history_user == user
    assert entry.history_change_reason == "Booked"


def test_a_booking_has_no_save_receiver_but_its_history():
    # `insert_with_history` sends no save signals: a new receiver must be called from there.
    assert not pre_save.has_listeners(Booking)
    receivers = list(post_save._live_receivers(Booking)[0])
    assert [type(receiver.__self__) for receiver in receivers] == [HistoricalRecords]
