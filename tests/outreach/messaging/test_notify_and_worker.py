"""The real Notify client against a fake Notify on loopback, and a real worker on Redis."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app
from outreach import services
from outreach.messaging import outbox
from outreach.messaging.gateways import Outgoing, TransportError, _instance
from outreach.messaging.gateways.notify import NotifyGateway
from outreach.models import BookingMode, Message
from outreach.tasks import send_due_messages_task, send_message_task, send_messages_task
from tests import factories
from tests.outreach.messaging.fake_notify import API_KEY, FakeNotify

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
        time.sleep(0.1)
    return False


@pytest.fixture
def worker_settings(settings, fake_notify):
    settings.OUTREACH_QUIET_HOURS = None
    settings.OUTREACH_DAILY_MESSAGE_CAP = 50
    settings.OUTREACH_REMINDER_OFFSETS = [20, 2]
    return settings


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_booking_reminder_reaches_notify_through_a_real_worker(worker_settings, fake_notify):
    bookings = _book_tomorrow()
    assert app.conf.broker_url.startswith("redis://")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_due_messages_task.delay()
        assert _wait_for(lambda: len(fake_notify.received) == 2), fake_notify.received

    assert fake_notify.duplicates() == 0
    assert set(Message.objects.filter(booking=bookings[0]).values_list("status", flat=True)) == {
        Message.Status.SENT
    }


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_message_lost_while_redis_was_down_goes_once_redis_is_back(
    worker_settings, fake_notify, monkeypatch
):
    (booking,) = _book_tomorrow()
    Message.objects.all().delete()

    def redis_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(send_message_task, "apply_async", redis_down)
        services.cancel_booking(booking, by=None, cancelled_by="service", reason="Nurse ill")

    news = Message.objects.get(booking=booking, purpose="cancellation")
    assert news.status == Message.Status.SCHEDULED
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        send_due_messages_task.delay()
        assert _wait_for(lambda: fake_notify.received[f"outreach-{news.pk}"] == 1)
        time.sleep(0.5)
    assert fake_notify.duplicates() == 0


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_send_each_message_once(worker_settings, fake_notify):
    _book_tomorrow(patient_count=8)
    expected = Message.objects.count()
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
    assert sorted(claimed) == sorted(Message.objects.values_list("pk", flat=True))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        for pk in claimed + claimed:  # every id enqueued twice, as two beats would
            send_message_task.delay(pk)
        send_due_messages_task.delay()
        send_due_messages_task.delay()
        assert _wait_for(lambda: len(fake_notify.received) == expected)
        time.sleep(1)

    assert fake_notify.duplicates() == 0
    assert Message.objects.filter(status=Message.Status.SENT).count() == expected


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as handle:
        return [int(child) for child in handle.read().split()]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_every_message_exactly_once(settings, fake_notify):
    organisation = factories.OrganisationFactory()
    for n in range(20):
        patient = factories.PatientFactory(organisation=organisation)
        point = factories.ContactPointFactory(patient=patient)
        factories.MessageFactory(
            organisation=organisation,
            patient=patient,
            to=point.value,
            send_after=timezone.now() - timedelta(minutes=1),
            idempotency_key=f"kill:{n}",
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
        "OUTREACH_SENDING_LEASE_SECONDS": "3",
    }
    # The first request is received, then hangs: the worker is killed while it waits.
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
        time.sleep(0.5)
        (child,) = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        # After the lease the sweep takes the abandoned rows over, looking each one up first.
        time.sleep(4)
        send_due_messages_task.delay()
        assert _wait_for(lambda: len(fake_notify.received) == 20, timeout=60), fake_notify.received
        assert _wait_for(
            lambda: Message.objects.filter(status=Message.Status.SENT).count() == 20, timeout=30
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    assert fake_notify.duplicates() == 0
