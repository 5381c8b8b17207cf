"""Messaging fixtures: the fake gateway, a frozen clock and a booking three days ahead."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from clinics.models import ContactPoint
from outreach.messaging import outbox
from outreach.messaging.gateways import _instance
from outreach.messaging.gateways.fake import FakeGateway
from outreach.models import BookingMode, OutreachSession
from tests import factories

FAKE = "outreach.messaging.gateways.fake.FakeGateway"
# Thursday 4 June 2026, 10:00-14:00 in London (BST).
THURSDAY_10 = datetime(2026, 6, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fake_gateway(settings) -> Iterator[type[FakeGateway]]:
    settings.OUTREACH_SMS_GATEWAY = FAKE
    settings.OUTREACH_EMAIL_GATEWAY = FAKE
    settings.OUTREACH_REMINDER_OFFSETS = [48, 2]
    settings.OUTREACH_QUIET_HOURS = ("21:00", "08:00")
    settings.OUTREACH_DAILY_MESSAGE_CAP = 3
    settings.OUTREACH_NOTIFY_RATE_PER_MINUTE = 3000
    settings.NOTIFY_CALLBACK_TOKEN = "callback-secret"
    _instance.cache_clear()
    FakeGateway.reset()
    cache.clear()
    outbox._broker_down_until = 0.0
    yield FakeGateway
    outbox._broker_down_until = 0.0
    FakeGateway.reset()
    _instance.cache_clear()


@pytest.fixture
def no_enqueue(monkeypatch) -> list[int]:
    """Record on-commit enqueues instead of publishing to a broker."""
    from outreach.tasks import send_message_task

    enqueued: list[int] = []
    monkeypatch.setattr(
        send_message_task, "apply_async", lambda args, **kwargs: enqueued.append(args[0])
    )
    return enqueued


@pytest.fixture
def later_session(clock, organisation, venue, service) -> OutreachSession:
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        name="Cathedral Square bus",
        starts_at=THURSDAY_10,
        ends_at=THURSDAY_10 + timedelta(hours=4),
        booking_mode=BookingMode.MIXED,
    )
    session.services.add(service)
    return session


@pytest.fixture
def mobile(patient) -> ContactPoint:
    return factories.ContactPointFactory(patient=patient, value="+447700900123", is_preferred=True)
