"""Messaging benchmark: due reminders through the real pipeline, counting duplicates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outreach_bench_messaging \
    REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python -m bench.messaging [--messages 100000] [--pool prefork] [--concurrency 2]

The pipeline is the production one: the every-minute sweep (`send_due_messages_task`, run here
once) claims the due rows in PostgreSQL and enqueues them in chunks on Redis; a real Celery
worker (a separate process) claims each row by compare-and-set and sends it with the real
notifications-python-client to a fake GOV.UK Notify on loopback (tests/outreach/messaging/
fake_notify.py, in this process), which counts every message it receives by reference.
Results go to bench/results/messaging.json and standard output.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("OUTREACH_READ_DOTENV", "false")
# The cap and the rate limit protect patients and Notify; the fake server needs neither.
os.environ.setdefault("OUTREACH_DAILY_MESSAGE_CAP", "50")
os.environ.setdefault("OUTREACH_NOTIFY_RATE_PER_MINUTE", "1000000")
os.environ.setdefault("OUTREACH_QUIET_HOURS", "off")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.models import ContactPoint, Organisation, Patient  # noqa: E402
from config.celery import app  # noqa: E402
from outreach.models import Message  # noqa: E402
from outreach.tasks import send_due_messages_task  # noqa: E402
from tests.outreach.messaging.fake_notify import API_KEY, FakeNotify  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_PATIENT = 50


def prepare(total: int) -> None:
    """A clean outbox with `total` reminders due now, 50 per patient (so under the cap)."""
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE outreach_message RESTART IDENTITY CASCADE")
    organisation, _ = Organisation.objects.get_or_create(
        name="Bench messaging trust", defaults={"kind": Organisation.Kind.NHS_TRUST}
    )
    needed = -(-total // PER_PATIENT)
    have = Patient.objects.filter(organisation=organisation).count()
    now = timezone.now()
    if have < needed:
        new = Patient.objects.bulk_create(
            Patient(organisation=organisation, preferred_name=f"Bench {n}")
            for n in range(have, needed)
        )
        ContactPoint.objects.bulk_create(
            ContactPoint(
                patient=patient,
                channel="sms",
                value=f"+4477009{patient.pk:05d}"[-13:],
                consent_given=True,
                consent_recorded_at=now,
            )
            for patient in new
        )
    points = list(
        ContactPoint.objects.filter(patient__organisation=organisation)
        .order_by("patient_id")
        .values_list("patient_id", "value")[:needed]
    )
    due = now - timedelta(minutes=1)
    batch: list[Message] = []
    for n in range(total):
        patient_id, number = points[n // PER_PATIENT]
        batch.append(
            Message(
                organisation=organisation,
                patient_id=patient_id,
                channel="sms",
                purpose="reminder",
                to=number,
                body="Hi, a reminder of your appointment on Thursday 4 June at 10:00. "
                "Reply C to confirm or X to cancel.",
                send_after=due,
                expires_at=now + timedelta(days=2),
                idempotency_key=f"bench:{n}",
            )
        )
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch.clear()
    Message.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE outreach_message")


def start_worker(notify: FakeNotify, pool: str, concurrency: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "OUTREACH_SMS_GATEWAY": "outreach.messaging.gateways.notify.NotifyGateway",
        "NOTIFY_API_KEY": API_KEY,
        "NOTIFY_BASE_URL": notify.base_url,
        "NOTIFY_SMS_TEMPLATE_ID": "00000000-0000-0000-0000-000000000001",
    }
    return subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "--app",
            "config",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def in_hand(now: Any) -> bool:
    return Message.objects.filter(
        Q(status=Message.Status.SENDING) | Q(status=Message.Status.SCHEDULED, send_after__lte=now)
    ).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    # A plain SIGTERM would skip the `finally` that stops the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        sys.exit("Set DATABASE_URL=postgres://... (the benchmark measures PostgreSQL).")
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL=redis://... (the benchmark measures the Redis broker).")

    started = time.perf_counter()
    prepare(args.messages)
    prepare_s = time.perf_counter() - started
    app.control.purge()
    with FakeNotify() as notify:
        worker = start_worker(notify, args.pool, args.concurrency)
        try:
            time.sleep(3)  # let the worker connect before the clock starts
            began = time.perf_counter()
            # What beat does every minute; one sweep claims the whole backlog.
            claimed = send_due_messages_task.apply().get()
            sweep_s = time.perf_counter() - began
            # Timed: until every message has had its first attempt (none due or in hand). A
            # temporary failure waits out its backoff; that wait is not the pipeline's speed.
            while time.perf_counter() - began < args.timeout and in_hand(timezone.now()):
                time.sleep(0.5)
            elapsed = time.perf_counter() - began
            sent_in_time = Message.objects.filter(status=Message.Status.SENT).count()
            retried = Message.objects.filter(attempts__gt=1).count()
            # Then, as beat would every minute, sweep until retries are through too.
            while (
                time.perf_counter() - began < args.timeout
                and Message.objects.filter(
                    status__in=[Message.Status.SCHEDULED, Message.Status.SENDING]
                ).exists()
            ):
                send_due_messages_task.apply()
                time.sleep(5)
            remaining = Message.objects.filter(
                status__in=[Message.Status.SCHEDULED, Message.Status.SENDING]
            ).count()
            time.sleep(1)  # anything sent twice would arrive now
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        received = sum(notify.received.values())
        results: dict[str, Any] = {
            "messages": args.messages,
            "pool": args.pool,
            "concurrency": args.concurrency,
            "claimed_by_sweep": claimed,
            "sweep_seconds": round(sweep_s, 2),
            "seconds": round(elapsed, 2),
            "messages_per_second": round(sent_in_time / elapsed, 1),
            "sent_in_time": sent_in_time,
            "retried_after_a_temporary_failure": retried,
            "sent": Message.objects.filter(status=Message.Status.SENT).count(),
            "not_finished": remaining,
            "received_by_fake_notify": received,
            "distinct_received": len(notify.received),
            "duplicates": notify.duplicates(),
            "prepare_seconds": round(prepare_s, 1),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }
    out = ROOT / "bench" / "results" / "messaging.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
