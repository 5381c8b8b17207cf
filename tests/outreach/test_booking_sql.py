"""The booking's hand-written statements write and read what the ORM would."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinics.models import ContactPoint
from outreach import booking_sql
from outreach.models import Message, MessageTemplate
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
