"""GOV.UK Notify delivery receipts: statuses only move forward, and repeats change nothing."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinics.domain import move_status
from outreach.models import Message

logger = logging.getLogger(__name__)

Status = Message.Status
# Notify's final statuses; anything else ("sending", "created") is not news.
_PERMANENT = {"permanent-failure"}
_TEMPORARY = {"temporary-failure", "technical-failure"}
# Only a sent message can learn how it ended; a delivered or failed one never moves again.
_RECEIPT_MOVES = {Status.SENT: {Status.DELIVERED, Status.FAILED}}


def _find(payload: Mapping[str, Any]) -> Message | None:
    reference = str(payload.get("reference") or "")
    if reference.startswith("outreach-") and reference[9:].isdigit():
        found = Message.objects.filter(pk=int(reference[9:])).first()
        if found is not None:
            return found
    provider_id = str(payload.get("id") or "")
    if provider_id:
        return Message.objects.filter(provider_reference=provider_id).first()
    return None


def apply_receipt(payload: Mapping[str, Any], *, now: datetime | None = None) -> str:
    """Record a delivery receipt; returns "delivered", "failed", "ignored" or "not_ready"."""
    now = now or timezone.now()
    status = str(payload.get("status") or "")
    message = _find(payload)
    if message is None:
        return "ignored"
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status == Status.SENDING:
            # Notify answered faster than the worker recorded the send: ask Notify to retry.
            return "not_ready"
        # A repeat, or a receipt arriving after a later one: never move backwards.
        if locked.status != Status.SENT:
            return "ignored"
        when = parse_datetime(str(payload.get("completed_at") or "")) or now
        if status == "delivered":
            move_status(
                locked,
                Status.DELIVERED,
                table=_RECEIPT_MOVES,
                by=None,
                reason="Delivery receipt",
                changes={"delivered_at": when},
            )
            return "delivered"
        if status in _PERMANENT | _TEMPORARY:
            move_status(
                locked,
                Status.FAILED,
                table=_RECEIPT_MOVES,
                by=None,
                reason="Delivery receipt",
                changes={
                    "failure_permanent": status in _PERMANENT,
                    "failure_detail": f"Notify: {status}",
                },
            )
            return "failed"
    return "ignored"
