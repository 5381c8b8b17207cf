"""The real Notify client against a fake Notify on loopback, and a real worker on Redis."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app
from outreach import services
from outreach.messaging import clock, outbox
from outreach.messaging.gateways import Outgoing, TransportError, _instance
from outreach.messaging.gateways.notify import NotifyGateway
from outreach.models import BookingMode, Message
from outreach.tasks import send_due_messages_task, send_message_task, send_messages_task
from tests import factories
from tests.outreach.messaging.fake_notify import API_KEY, FakeNotify
from tests.outreach.messaging.redis_server import RedisServer

NOTIFY = "outreach.messaging.gateways.notify.NotifyGateway"


@pytest.fixture
def fake_notify(settings):
    with FakeNotify() as server:
        settings.NOTIFY_API_KEY = API_KEY
        settings.NOTIFY_BASE_URL = server.base_url
        settings.NOTIFY_SMS_TEMPLATE_ID = "00000000-0000-0000-0000-000000000001"
        settings.NOTIFY_EMAIL_TEMPLATE_ID = "00000000-0000-0000-0000-000000000002"
        settings.NOTIFY_TIMEOUT_SECONDS = 1
        settings.OUTREACH_SMS_GATEWAY = NOTIFY
        settings.OUTREACH_EMAIL_GATEWAY = NOTIFY
        _instance.cache_clear()
        yield server
        _instance.cache_clear()


def outgoing(reference: str = "outreach-1") -> Outgoing:
    return Outgoing(reference, "sms", "+447700900123", "", "Hello", discreet=False)


def test_the_notify_gateway_sends_a_text_with_the_generic_template(fake_notify):
    provider_id = NotifyGateway().send(outgoing())

    assert fake_notify.received == {"outreach-1": 1}
    sent = fake_notify.bodies[0]
    assert sent["personalisation"] == {"body": "Hello"}
    assert sent["template_id"] == "00000000-0000-0000-0000-000000000001"
    assert NotifyGateway().lookup("outreach-1") == provider_id
    assert NotifyGateway().lookup("outreach-2") is None


@pytest.mark.parametrize(("status", "permanent"), [(429, False), (500, False), (400, True)])
def test_notify_errors_say_whether_to_retry(fake_notify, status, permanent):
    fake_notify.fail_next.append(status)

    with pytest.raises(TransportError) as raised:
        NotifyGateway().send(outgoing())

    assert raised.value.permanent is permanent


def test_a_notify_timeout_is_uncertain(fake_notify):
    fake_notify.hang_next = 2.0

    with pytest.raises(TransportError) as raised:
        NotifyGateway().send(outgoing())

    assert raised.value.uncertain
    # It did arrive: the lookup before a resend finds it.
    assert NotifyGateway().lookup("outreach-1") is not None


def _book_tomorrow(patient_count: int = 1) -> list:
    """Book people into a session tomorrow; their reminders are made due now."""
    start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    session = factories.OutreachSessionFactory(
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        lanes=4,
        booking_mode=BookingMode.APPOINTMENTS,
    )
    service = factories.ServiceTypeFactory()
    session.services.add(service)
    bookings = []
    for _ in range(patient_count):
        patient = factories.PatientFactory(organisation=session.organisation)
        factories.ContactPointFactory(patient=patient)
        booking, _ = services.book_slot(
            patient=patient, session=session, service=service, by=factories.UserFactory()
        )
        bookings.append(booking)
    # Time passes: every reminder is due (and not in quiet hours whatever the hour of the run).
    Message.objects.update(send_after=timezone.now() - timedelta(minutes=1))
    return bookings


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _broker() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url, socket_connect_timeout=2)


def _nothing_queued(broker: redis.Redis) -> bool:
    # Waiting tasks are in the queue's list; a task a worker has taken but not yet
    # acknowledged (acks_late: running, or held for a retry countdown) is in the "unacked" hash.
    return broker.llen(app.conf.task_default_queue) == 0 and broker.hlen("unacked") == 0


def _idle(seen: list[str]) -> bool:
    broker = _broker()
    if not _nothing_queued(broker):
        seen[:] = ["tasks queued or unacknowledged"]
        return False
    # One worker runs in these tests, so each question returns on its answer (limit=1). The
    # timeout only bounds a lost answer: a solo worker answers between tasks, and on a loaded
    # machine an answer can take well over a second.
    inspect = app.control.inspect(timeout=5, limit=1)
    active = inspect.active()
    reserved = inspect.reserved() if active else None
    if not active or reserved is None:
        seen[:] = ["the worker did not answer"]
        return False
    if any(active.values()) or any(reserved.values()):
        seen[:] = [f"active {active}, reserved {reserved}"]
        return False
    # Asked again: a task finishing just before the worker answered may have queued another.
    return _nothing_queued(broker)


def _wait_until_idle(timeout: float = 90.0) -> None:
    """Return once nothing can still send: no task queued, unacknowledged or running.

    This replaces sleeping "long enough for a late duplicate": once the queue is empty and the
    worker is idle, no send is still on its way, so counting at the fake Notify is final.
    """
    seen: list[str] = []
    assert _wait_for(lambda: _idle(seen), timeout=timeout), (
        f"the worker did not become idle: {seen}"
    )


@pytest.fixture
def empty_broker(settings):
    """Start from an empty queue: a task left by an earlier run would be counted as ours."""
    broker = _broker()
    broker.delete(app.conf.task_default_queue, "unacked", "unacked_index")
    return broker


@pytest.fixture
def worker_settings(settings, fake_notify, empty_broker):
    settings.OUTREACH_QUIET_HOURS = None
    settings.OUTREACH_DAILY_MESSAGE_CAP = 50
    settings.OUTREACH_REMINDER_OFFSETS = [20, 2]
    return settings


def _sent_once(fake_notify: FakeNotify, messages) -> dict[str, int]:
    return {outbox.reference_for(message): 1 for message in messages}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_booking_reminder_reaches_notify_through_a_real_worker(worker_settings, fake_notify):
    bookings = _book_tomorrow()
    assert app.conf.broker_url.startswith("redis://")
    reminders = list(Message.objects.filter(booking=bookings[0]))
    assert len(reminders) == 2

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_due_messages_task.delay()
        assert _wait_for(lambda: not Message.objects.exclude(status=Message.Status.SENT).exists())
        _wait_until_idle()

    assert fake_notify.received == _sent_once(fake_notify, reminders)


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point the Celery app (publishing, workers, control) at another broker for a while."""

    def reset() -> None:
        # The app caches its pools; dropping the references makes the next publish look them
        # up for the current URL. Not closed: kombu keeps one pool per URL for the process, so
        # the original broker's pool is found again, open, afterwards.
        app._pool = None
        app.amqp._producer_pool = None
        # The control mailbox (inspect) caches its producer pool too, as Celery after a fork.
        app.control.mailbox.__dict__.pop("producer_pool", None)

    before = app.conf.broker_url
    reset()
    app.conf.broker_url = url
    try:
        yield
    finally:
        reset()
        app.conf.broker_url = before


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_booking_made_while_redis_is_stopped_succeeds_and_its_text_goes_once_redis_is_back(
    worker_settings, fake_notify, caplog
):
    # Booked exactly two hours ahead: the 2-hour reminder is due at once, so the booking's
    # commit hands it to Celery, which is the publish that finds Redis stopped.
    worker_settings.OUTREACH_REMINDER_OFFSETS = [2]
    now = timezone.now().replace(microsecond=0)
    session = factories.OutreachSessionFactory(
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=6),
        booking_mode=BookingMode.APPOINTMENTS,
    )
    service = factories.ServiceTypeFactory()
    session.services.add(service)
    patient = factories.PatientFactory(organisation=session.organisation)
    factories.ContactPointFactory(patient=patient)

    with RedisServer() as broker, broker_at(broker.url):
        broker.shutdown()
        with caplog.at_level(logging.WARNING, logger="outreach.messaging.outbox"):
            booking, created = services.book_slot(
                patient=patient, session=session, service=service, by=None, now=now
            )

        assert created
        booking.refresh_from_db()
        assert booking.status == "booked"
        (reminder,) = Message.objects.filter(booking=booking)
        assert (reminder.status, reminder.send_after) == (Message.Status.SCHEDULED, now)
        assert f"message {reminder.pk} not enqueued" in caplog.text

        broker.start()  # empty: nothing was ever published
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            # Beat's every-minute sweep finds the row the lost publish never delivered.
            send_due_messages_task.delay()
            assert _wait_for(
                lambda: Message.objects.get(pk=reminder.pk).status == Message.Status.SENT
            )
            _wait_until_idle()

    assert fake_notify.received == _sent_once(fake_notify, [reminder])


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_message_lost_on_commit_goes_once_by_the_sweep(worker_settings, fake_notify, monkeypatch):
    (booking,) = _book_tomorrow()
    Message.objects.all().delete()

    def publish_fails(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(send_message_task, "apply_async", publish_fails)
        services.cancel_booking(booking, by=None, cancelled_by="service", reason="Nurse ill")

    news = Message.objects.get(booking=booking, purpose="cancellation")
    assert news.status == Message.Status.SCHEDULED
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_due_messages_task.delay()
        assert _wait_for(lambda: Message.objects.get(pk=news.pk).status == Message.Status.SENT)
        _wait_until_idle()
    assert fake_notify.received == _sent_once(fake_notify, [news])


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_send_each_message_once(worker_settings, fake_notify):
    _book_tomorrow(patient_count=8)
    expected = list(Message.objects.all())
    start = threading.Barrier(2)
    claimed: list[int] = []

    def sweep() -> None:
        start.wait()
        # Each "beat" enqueues its own sweep and runs one directly, racing the other.
        claimed.extend(outbox.claim_due())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(message.pk for message in expected)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for pk in claimed + claimed:  # every id enqueued twice, as two beats would
            send_message_task.delay(pk)
        send_due_messages_task.delay()
        send_due_messages_task.delay()
        assert _wait_for(lambda: not Message.objects.exclude(status=Message.Status.SENT).exists())
        _wait_until_idle()

    assert fake_notify.received == _sent_once(fake_notify, expected)


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as handle:
        return [int(child) for child in handle.read().split()]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_every_message_exactly_once(
    worker_settings, fake_notify, monkeypatch
):
    settings = worker_settings
    organisation = factories.OrganisationFactory()
    messages = []
    for n in range(20):
        patient = factories.PatientFactory(organisation=organisation)
        point = factories.ContactPointFactory(patient=patient)
        messages.append(
            factories.MessageFactory(
                organisation=organisation,
                patient=patient,
                to=point.value,
                send_after=timezone.now() - timedelta(minutes=1),
                idempotency_key=f"kill:{n}",
            )
        )
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "OUTREACH_READ_DOTENV": "false",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "OUTREACH_SMS_GATEWAY": NOTIFY,
        "NOTIFY_API_KEY": API_KEY,
        "NOTIFY_BASE_URL": fake_notify.base_url,
        "NOTIFY_SMS_TEMPLATE_ID": settings.NOTIFY_SMS_TEMPLATE_ID,
        "OUTREACH_QUIET_HOURS": "off",
        # The production lease: the chunk Celery redelivers to the replacement child after the
        # kill finds every row still leased to the dead one and sends nothing.
        "OUTREACH_SENDING_LEASE_SECONDS": "300",
    }
    # The first request is received, then hangs: the worker is killed while it waits, with
    # the rest of its chunk sent or in flight and none of it recorded as sent.
    fake_notify.hang_next = 30.0
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", "--pool", "prefork",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        ids = outbox.claim_due()
        send_messages_task.delay(ids)
        assert _wait_for(lambda: sum(fake_notify.received.values()) >= 1, timeout=60)
        (child,) = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        # A warm shutdown of the rest of that worker: a chunk it had not acknowledged goes back
        # to the queue for the next worker.
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    assert Message.objects.filter(status=Message.Status.SENDING).count() == 20

    # The lease runs out: every claim made up to now is past it (moved on, not waited out).
    # Claims made from here on hold, so the takeover itself cannot be taken over again.
    expired_before = timezone.now()
    monkeypatch.setattr(clock, "lease_expired_before", lambda now: expired_before)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_due_messages_task.delay()
        assert _wait_for(
            lambda: Message.objects.filter(status=Message.Status.SENT).count() == 20, timeout=60
        )
        _wait_until_idle()

    # Every message arrived exactly once: those the dead worker had sent were looked up, not
    # resent; the rest were sent by the takeover.
    assert fake_notify.received == _sent_once(fake_notify, messages)
