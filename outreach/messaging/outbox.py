"""The outbox: queue a message row with the change that causes it; claim and send due rows.

Rows are written by `queue_message` (or directly, by other apps, in status "scheduled") and sent
by `send_message`, which Celery runs on commit for an immediate message and the every-minute
sweep runs for anything due or missed. Nothing is handed to Celery hours ahead.

Claiming is compare-and-set: `UPDATE ... SET status='sending' WHERE status='scheduled'` succeeds
for exactly one worker, so two workers, two sweeps or a task delivered twice never send twice.
A row left in "sending" by a worker that died is taken again once its lease has passed, and
then looked up at the provider by its reference before anything is resent.
"""

import logging
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.utils import timezone

from clinics.domain import move_status
from clinics.models import ContactPoint, Organisation, Patient
from clinics.validators import normalise_mobile
from outreach import booking_sql
from outreach.messaging import clock
from outreach.messaging.clock import after_quiet_hours, in_quiet_hours, london_day_bounds
from outreach.messaging.gateways import Outgoing, TransportError, gateway_for
from outreach.messaging.rendering import DEFAULTS
from outreach.models import Booking, Message, MessageTemplate

logger = logging.getLogger(__name__)

Status = Message.Status
Reason = Message.SuppressedReason

# Backoff for temporary failures: 30 s doubling, capped at 15 minutes, far below the Redis
# visibility timeout (an hour) so a retried task is never redelivered while it waits.
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 900
SWEEP_BATCH = 500
# Provider calls in flight at once per worker process when sending a chunk.
SEND_THREADS = 8


def reference_for(message: Message) -> str:
    """Our reference at the provider: the row's id only, never personal data."""
    return f"outreach-{message.pk}"


def _move(message: Message, to: str, reason: str, **changes: Any) -> Message:
    return move_status(
        message, to, table=Message.NEXT_STATUSES, by=None, reason=reason, changes=changes
    )


def choose_contact(
    patient: Patient, channel: str | None = None, *, points: list[ContactPoint] | None = None
) -> ContactPoint | None:
    """The contact point to use: one we may contact first, the preferred one, text before email.

    When none may be contacted the first is still returned, so the row records why it was not
    sent (no consent, opted out) rather than only that nothing was found. `points` are the
    patient's contact points when the caller has read them already.
    """
    points = [
        point
        for point in (patient.contact_points.all() if points is None else points)
        if channel is None or point.channel == channel
    ]
    points.sort(
        key=lambda p: (not p.may_contact, not p.is_preferred, p.channel != "sms", p.pk or 0)
    )
    return points[0] if points else None


def contact_problem(
    patient: Patient, channel: str, to: str, *, points: list[ContactPoint] | None = None
) -> str:
    """Why `patient` may not be sent this message at `to` ("" when they may)."""
    if not to:
        return Reason.NO_CONTACT
    wanted = _normalise(channel, to)
    points = [
        point
        for point in (patient.contact_points.all() if points is None else points)
        if point.channel == channel and point.value == wanted
    ]
    if not points:
        # An address the patient never gave us, so no consent was ever recorded for it.
        return Reason.NO_CONSENT
    if any(point.opted_out_at is not None for point in points):
        return Reason.OPTED_OUT
    if not any(point.consent_given for point in points):
        return Reason.NO_CONSENT
    return ""


def _normalise(channel: str, to: str) -> str:
    if channel == ContactPoint.Channel.SMS:
        return normalise_mobile(to)
    return to.strip().lower()


def render_for(
    purpose: str,
    channel: str,
    *,
    discreet: bool,
    known: dict[str, MessageTemplate | None] | None = None,
) -> tuple[MessageTemplate | None, str, str]:
    """The active template for a purpose and channel, else the built-in wording.

    `known` are the active templates for this purpose and discretion by channel, when the
    caller has read them already (a booking reads its reminders' with the session's lock).
    """
    if known is not None and channel in known:
        template = known[channel]
    else:
        template = booking_sql.active_template(purpose, channel, discreet=discreet)
    if template is not None:
        return template, template.subject, template.body
    subject, body = DEFAULTS[(purpose, discreet)]
    return None, subject, body


def queue_message(
    *,
    organisation: Organisation,
    idempotency_key: str,
    body: str,
    purpose: str = "",
    patient: Patient | None = None,
    recipient_user: Any = None,
    booking: Booking | None = None,
    channel: str | None = None,
    to: str = "",
    subject: str = "",
    send_after: datetime | None = None,
    expires_at: datetime | None = None,
    discreet: bool = False,
    template: MessageTemplate | None = None,
    now: datetime | None = None,
) -> Message:
    """Write one outbound message row, applying consent, opt-out and quiet hours; idempotent.

    Call it inside the transaction of the change that causes the message: the row commits or
    rolls back with it. A second call with the same key returns the first row unchanged.
    For a patient, `channel` and `to` default to their best contact point; a message that may
    not go is still written, as "suppressed" with the reason, so staff can see why.
    """
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    message = prepare_message(
        organisation_id=organisation.pk,
        idempotency_key=idempotency_key,
        body=body,
        purpose=purpose,
        patient=patient,
        recipient_user=recipient_user,
        booking=booking,
        channel=channel,
        to=to,
        subject=subject,
        send_after=send_after,
        expires_at=expires_at,
        discreet=discreet,
        template=template,
        now=now,
    )
    return _save_one(message, now)


def prepare_message(
    *,
    organisation_id: int,
    idempotency_key: str,
    body: str,
    now: datetime,
    purpose: str = "",
    patient: Patient | None = None,
    recipient_user: Any = None,
    booking: Booking | None = None,
    channel: str | None = None,
    to: str = "",
    subject: str = "",
    send_after: datetime | None = None,
    expires_at: datetime | None = None,
    discreet: bool = False,
    template: MessageTemplate | None = None,
    points: list[ContactPoint] | None = None,
) -> Message:
    """The unsaved row `queue_message` would write, with every send rule applied.

    `points` are the patient's contact points when the caller has read them already (so a
    booking's reminders read them once, not once per reminder).
    """
    send_after = send_after or now
    status, reason = Status.SCHEDULED, ""
    if patient is not None:
        if not to:
            point = choose_contact(patient, channel, points=points)
            if point is not None:
                channel, to = point.channel, point.value
        channel = channel or ContactPoint.Channel.SMS
        reason = contact_problem(patient, channel, to, points=points)
        if reason:
            status = Status.SUPPRESSED
    if recipient_user is not None and not to:
        # Staff (the coordinators' digest) are written to at their account's address.
        channel, to = channel or ContactPoint.Channel.EMAIL, recipient_user.email
    channel = channel or ContactPoint.Channel.EMAIL
    if channel == ContactPoint.Channel.SMS:
        # Texts wake people; emails wait in an inbox, so only texts keep quiet hours.
        send_after = after_quiet_hours(send_after)
    if status == Status.SCHEDULED and expires_at is not None and send_after >= expires_at:
        status = Status.EXPIRED
    return Message(
        organisation_id=organisation_id,
        patient=patient,
        recipient_user=recipient_user,
        booking=booking,
        template=template,
        purpose=purpose,
        discreet=discreet,
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        send_after=send_after,
        expires_at=expires_at,
        status=status,
        suppressed_reason=reason,
        idempotency_key=idempotency_key,
    )


def _save_one(message: Message, now: datetime) -> Message:
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same key written by a concurrent request: that row stands.
        return Message.objects.get(idempotency_key=message.idempotency_key)
    _enqueue_if_due(message, now)
    return message


# After a publish fails, this process stops trying for a while. Against a stopped Redis each
# attempt costs seconds (the client's own connection retries), and one request can queue a
# message per patient (a cancelled session): without this a booking would wait for each.
BROKER_RETRY_AFTER_SECONDS = 30.0
_broker_down_until = 0.0


def _enqueue_if_due(message: Message, now: datetime) -> None:
    if message.status == Status.SCHEDULED and message.send_after <= now:
        enqueue_on_commit(message.pk)


def enqueue_due(messages: list[Message], *, now: datetime) -> None:
    """Hand the saved `messages` that are due now to a worker once the transaction commits.

    For rows written by other means than `queue_message` and `queue_messages`, which do this
    themselves; the rest wait for the every-minute sweep.
    """
    for message in messages:
        _enqueue_if_due(message, now)


def queue_messages(messages: list[Message], *, now: datetime) -> list[Message]:
    """Write rows made by `prepare_message` in one insert; idempotent like `queue_message`.

    A key already written returns the row that has it, as `queue_message` would. Should a
    concurrent request write one of the keys meanwhile, the insert is undone and each row is
    written on its own, so the others still go. (A new booking's reminders, whose keys cannot
    exist yet, go in with the booking instead: `reminders.new_booking_reminders`.)
    """
    if not messages:
        return []
    keys = [message.idempotency_key for message in messages]
    existing = {
        row.idempotency_key: row for row in Message.objects.filter(idempotency_key__in=keys)
    }
    new = [message for message in messages if message.idempotency_key not in existing]
    if new:
        try:
            with transaction.atomic():
                booking_sql.insert_rows(new)
        except IntegrityError:
            return [_save_one(message, now) for message in messages]
        enqueue_due(new, now=now)
    return [existing.get(message.idempotency_key, message) for message in messages]


def enqueue_on_commit(message_id: int) -> None:
    """Hand the message to a worker once the transaction commits, if the broker is reachable.

    This is `delay_on_commit` made safe: if Redis is down the booking must still succeed, so the
    publish is tried once, never retried, and a failure only logs; the every-minute sweep sends
    the row when Redis is back. After a failure the next publishes in this process are skipped
    for `BROKER_RETRY_AFTER_SECONDS`, so a request never waits on a dead broker more than once.
    """

    def enqueue() -> None:
        global _broker_down_until
        from outreach.tasks import send_message_task

        if time.monotonic() < _broker_down_until:
            logger.warning(
                "message %s not enqueued (broker down); the sweep will send it", message_id
            )
            return
        try:
            send_message_task.apply_async((message_id,), retry=False)
        except Exception:  # any broker error: the sweep is the fallback
            _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
            logger.warning("message %s not enqueued; the sweep will send it", message_id)

    transaction.on_commit(enqueue)


@dataclass(frozen=True)
class Outcome:
    """What `send_message` did; `retry_in` is set when a temporary failure should be retried."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter for the given attempt (1-based)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    # Jitter spreads retries after a provider outage instead of returning all at once.
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - not for security  # nosec B311


def _claim(message_id: int, now: datetime) -> bool:
    claimed = Message.objects.filter(
        pk=message_id, status=Status.SCHEDULED, send_after__lte=now
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, sent_at=None)
    if claimed:
        return True
    # A row its worker never finished (killed mid-send): take it over once the lease passed.
    stale = clock.lease_expired_before(now)
    return bool(
        Message.objects.filter(pk=message_id, status=Status.SENDING, claimed_at__lt=stale).update(
            claimed_at=now, attempts=F("attempts") + 1, sent_at=None
        )
    )


def _take_rate_slots(now: datetime, wanted: int = 1) -> int:
    """Take up to `wanted` sends from this minute's limit, shared by every worker (in the
    cache: Redis in production); returns how many were granted."""
    if wanted <= 0:
        return 0
    key = f"messaging:rate:{int(now.timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key, wanted)
    except ValueError:  # evicted between add and incr
        cache.set(key, wanted, timeout=120)
        count = wanted
    before = count - wanted
    return max(0, min(wanted, settings.OUTREACH_NOTIFY_RATE_PER_MINUTE - before))


# What counts towards a patient's daily cap: messages sent or delivered today, and messages
# being sent right now whose checks passed (they carry `sent_at` from that moment, so a second
# worker sending to the same person at the same time counts them).
_COUNTED = [Status.SENDING, Status.SENT, Status.DELIVERED]


def _lock_patients(patient_ids: set[int]) -> None:
    """Serialise the daily-cap check per patient until the caller's transaction ends.

    Without it two workers sending to one person at once could both count two sent today and
    both send, a fourth text against a cap of three.
    """
    if patient_ids:
        list(
            Patient.objects.select_for_update()
            .filter(pk__in=patient_ids)
            .order_by("pk")  # one order everywhere, so two chunks never deadlock
            .values_list("pk", flat=True)
        )


def _sent_today(message: Message, now: datetime) -> int:
    start, end = london_day_bounds(now)
    return (
        Message.objects.filter(
            patient_id=message.patient_id,
            status__in=_COUNTED,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .exclude(pk=message.pk)
        .count()
    )


def _put_back(
    message: Message, send_after: datetime, reason: str, *, attempt_used: bool, **changes: Any
) -> None:
    # A postponement that never reached the gateway (quiet hours, the rate limit) gives the
    # attempt back, so it neither counts towards failing nor triggers a lookup.
    attempts = message.attempts if attempt_used else max(message.attempts - 1, 0)
    _move(
        message,
        Status.SCHEDULED,
        reason,
        send_after=send_after,
        claimed_at=None,
        sent_at=None,  # no longer counts towards today's cap
        attempts=attempts,
        **changes,
    )


def _stopped_by_rules(
    message: Message, now: datetime, *, sent_today: int | None = None, rate_ok: bool | None = None
) -> Outcome | None:
    """Apply the rules again at send time: things change between scheduling and sending."""
    booking = message.booking if message.booking_id else None
    if message.purpose == "reminder" and booking and booking.status != Booking.Status.BOOKED:
        _move(message, Status.CANCELLED, "The booking is no longer booked")
        return Outcome(Status.CANCELLED)
    if message.expires_at is not None and now >= message.expires_at:
        _move(message, Status.EXPIRED, "Too late to be useful")
        return Outcome(Status.EXPIRED)
    if message.patient_id is not None:
        reason = contact_problem(message.patient, message.channel, message.to)
        if reason:
            _move(message, Status.SUPPRESSED, "Not allowed at send time", suppressed_reason=reason)
            return Outcome(Status.SUPPRESSED)
        if message.channel == ContactPoint.Channel.SMS and in_quiet_hours(now):
            _put_back(message, after_quiet_hours(now), "Quiet hours", attempt_used=False)
            return Outcome(Status.SCHEDULED)
        if sent_today is None:
            sent_today = _sent_today(message, now)
        if sent_today >= settings.OUTREACH_DAILY_MESSAGE_CAP:
            _move(
                message,
                Status.SUPPRESSED,
                "Daily limit reached",
                suppressed_reason=Reason.DAILY_CAP,
            )
            return Outcome(Status.SUPPRESSED)
    if rate_ok is None:
        rate_ok = _take_rate_slots(now) == 1
    if not rate_ok:
        next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        _put_back(message, next_minute, "Rate limit", attempt_used=False)
        return Outcome(Status.SCHEDULED)
    return None


def _deliver(message: Message, now: datetime) -> str | Outcome:
    """Hand a claimed message to its gateway: the provider's id, or the failure's outcome."""
    result = _network(message)
    if isinstance(result, TransportError):
        return _failed(message, result, now)
    return result


def _network(message: Message) -> str | TransportError:
    """The gateway calls alone (no database), so a batch can run them in threads."""
    gateway = gateway_for(message.channel)
    reference = reference_for(message)
    try:
        provider_id = None
        if message.attempts > 1:
            # An earlier attempt may have reached the provider (a timeout, a killed worker).
            provider_id = gateway.lookup(reference)
        if provider_id is None:
            provider_id = gateway.send(
                Outgoing(
                    reference=reference,
                    channel=message.channel,
                    to=message.to,
                    subject=message.subject,
                    body=message.body,
                    discreet=message.discreet,
                )
            )
    except TransportError as error:
        return error
    return provider_id


def _mark_sent(sent: list[tuple[int, str]], now: datetime) -> None:
    # Compare-and-set from "sending", one statement for a whole chunk.
    if not sent:
        return
    Message.objects.filter(pk__in=[pk for pk, _ in sent], status=Status.SENDING).update(
        status=Status.SENT,
        sent_at=now,
        failure_detail="",
        provider_reference=Case(
            *(When(pk=pk, then=Value(provider_id[:100])) for pk, provider_id in sent),
            output_field=CharField(),
        ),
    )


def send_message(message_id: int, *, now: datetime | None = None) -> Outcome:
    """Claim one due message and send it through its channel's gateway; safe to repeat."""
    now = now or timezone.now()
    if not _claim(message_id, now):
        return Outcome("skipped")
    message = Message.objects.select_related("booking", "patient").get(pk=message_id)
    with transaction.atomic():
        _lock_patients({message.patient_id} if message.patient_id else set())
        stopped = _stopped_by_rules(message, now)
        if stopped is None:
            # Counted towards today's cap from now, before the provider is called.
            Message.objects.filter(pk=message.pk, status=Status.SENDING).update(sent_at=now)
    if stopped is not None:
        return stopped
    result = _deliver(message, now)
    if isinstance(result, Outcome):
        return result
    _move(message, Status.SENT, "Sent", sent_at=now, provider_reference=result[:100])
    return Outcome(Status.SENT)


def send_batch(message_ids: list[int], *, now: datetime | None = None) -> list[Outcome]:
    """Claim and send a chunk of messages with a few commits instead of several per message.

    The rows are claimed together (compare-and-set under `skip_locked`), their contact points
    and today's counts read in two queries, and the "sent" marks written in one transaction
    at the end. A worker killed before that commit leaves rows in "sending": they are taken
    over after the lease and looked up at the provider first, so none is sent twice.
    """
    now = now or timezone.now()
    stale = clock.lease_expired_before(now)
    with transaction.atomic():
        claimed = list(
            Message.objects.filter(pk__in=message_ids)
            .filter(
                Q(status=Status.SCHEDULED, send_after__lte=now)
                | Q(status=Status.SENDING, claimed_at__lt=stale)
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=claimed).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, sent_at=None
        )
    messages = list(
        Message.objects.filter(pk__in=claimed)
        .select_related("booking", "patient")
        .prefetch_related("patient__contact_points")
        .order_by("pk")
    )
    start, end = london_day_bounds(now)
    patients = {m.patient_id for m in messages if m.patient_id}
    outcomes = [Outcome("skipped")] * (len(message_ids) - len(messages))
    granted = _take_rate_slots(now, len(messages))
    ready: list[Message] = []
    with transaction.atomic():
        # The patients stay locked only while the rules run, never during the provider calls.
        _lock_patients(patients)
        counts = dict(
            Message.objects.filter(
                patient_id__in=patients,
                status__in=_COUNTED,
                sent_at__gte=start,
                sent_at__lt=end,
            )
            .values_list("patient_id")
            .annotate(count=Count("pk"))
        )
        for index, message in enumerate(messages):
            today = counts.get(message.patient_id, 0)
            stopped = _stopped_by_rules(message, now, sent_today=today, rate_ok=index < granted)
            if stopped is not None:
                outcomes.append(stopped)
                continue
            counts[message.patient_id] = today + 1
            ready.append(message)
        Message.objects.filter(pk__in=[m.pk for m in ready], status=Status.SENDING).update(
            sent_at=now
        )
    sent: list[tuple[int, str]] = []
    try:
        # The provider calls overlap in threads; everything touching the database stays here.
        for message, result in zip(ready, _executor().map(_network, ready), strict=True):
            if isinstance(result, TransportError):
                outcomes.append(_failed(message, result, now))
            else:
                sent.append((message.pk, result))
                outcomes.append(Outcome(Status.SENT))
    finally:
        _mark_sent(sent, now)
    return outcomes


_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    # Made on first use, so each prefork child has its own threads (none survive a fork).
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="send")
    return _EXECUTOR


def _failed(message: Message, error: TransportError, now: datetime) -> Outcome:
    detail = error.detail[:500]
    logger.warning("message %s failed (attempt %s): %s", message.pk, message.attempts, detail)
    if error.permanent or message.attempts >= settings.OUTREACH_MESSAGE_MAX_ATTEMPTS:
        _move(
            message,
            Status.FAILED,
            "Failed",
            failure_permanent=error.permanent,
            failure_detail=detail,
            sent_at=None,
        )
        return Outcome(Status.FAILED)
    delay = backoff_seconds(message.attempts)
    _put_back(
        message,
        now + timedelta(seconds=delay),
        "Temporary failure",
        attempt_used=True,
        failure_detail=detail,
    )
    return Outcome(Status.SCHEDULED, retry_in=delay)


def claim_due(*, now: datetime | None = None, limit: int = 100_000) -> list[int]:
    """Lease every due row (and every stale "sending" one) to this sweep; return their ids."""
    return [pk for batch in claim_due_batches(now=now, limit=limit) for pk in batch]


def claim_due_batches(*, now: datetime | None = None, limit: int = 100_000) -> Iterator[list[int]]:
    """Lease due rows in batches, yielding each batch's ids as soon as it is committed.

    `select_for_update(skip_locked=True)` lets two sweeps run at once without waiting on or
    taking each other's rows; the lease (`claimed_at`) stops the next minute's sweep from
    enqueuing the same backlog again while the workers are still on it. The lease is not the
    send claim: a row is only sent after the compare-and-set in `send_message`/`send_batch`.
    Yielding per batch lets the caller enqueue the first rows while later ones are claimed.
    """
    now = now or timezone.now()
    stale = clock.lease_expired_before(now)
    due = Q(status=Status.SCHEDULED, send_after__lte=now) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    )
    # Rows a dead worker left in "sending" are not leased here: the task's own compare-and-set
    # on `claimed_at` takes them over, after which they are no longer stale.
    abandoned = list(
        Message.objects.filter(status=Status.SENDING, claimed_at__lt=stale)
        .order_by("claimed_at")
        .values_list("pk", flat=True)[:limit]
    )
    if abandoned:
        yield abandoned
    count = len(abandoned)
    while count < limit:
        with transaction.atomic():
            ids = list(
                Message.objects.filter(due)
                .order_by("send_after", "id")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[: min(SWEEP_BATCH, limit - count)]
            )
            if not ids:
                return
            Message.objects.filter(pk__in=ids).update(claimed_at=now)
        count += len(ids)
        yield ids


def resend_message(message: Message, *, now: datetime | None = None) -> Message:
    """Send a failed message again: back to scheduled, due now."""
    now = now or timezone.now()
    moved = _move(
        message,
        Status.SCHEDULED,
        "Resent by staff",
        send_after=now,
        claimed_at=None,
        attempts=0,
        failure_detail="",
        failure_permanent=False,
    )
    enqueue_on_commit(moved.pk)
    return moved
