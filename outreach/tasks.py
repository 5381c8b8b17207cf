"""Thin Celery wrappers: ids in, one service call, the retry policy here."""

from celery import Task, shared_task

from outreach import services
from outreach.messaging import outbox


@shared_task(acks_late=True)
def fill_series_horizons_task() -> int:
    """Keep every active series' sessions created ahead (run hourly by beat)."""
    return services.fill_series_horizons()


@shared_task(acks_late=True)
def mark_missed_bookings_task() -> int:
    """Mark unattended bookings as not attended after their session (run by beat)."""
    return services.mark_missed_bookings()


# How many ids one sweep task carries: enough to make Celery's own overhead small, few enough
# that a worker killed mid-batch leaves little for the lease to recover.
SEND_CHUNK = 50


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_message_task(self: Task, message_id: int) -> str:
    """Send one message now (enqueued on commit for an immediate message)."""
    outcome = outbox.send_message(message_id)
    if outcome.retry_in is not None:
        # The row is already rescheduled in the database, so if this retry is lost the sweep
        # still sends it; the countdown stays far below the Redis visibility timeout.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True)
def send_messages_task(message_ids: list[int]) -> int:
    """Send a chunk of due messages claimed by the sweep; retries are left to the sweep."""
    return sum(outcome.status == "sent" for outcome in outbox.send_batch(message_ids))


@shared_task(acks_late=True)
def send_due_messages_task() -> int:
    """Claim every due or abandoned message and enqueue them in chunks (run every minute)."""
    count = 0
    for ids in outbox.claim_due_batches():
        for start in range(0, len(ids), SEND_CHUNK):
            send_messages_task.delay(ids[start : start + SEND_CHUNK])
        count += len(ids)
    return count
