"""The outbox: confirmations, reminders and cancellations in every status, and a digest.

Each message is written once under its idempotency key (`booking:<id>:reminder:48h` and the
like, the id being stable within a database) with a status that says where it got to: sent and
delivered ones carry their times, suppressed ones the reason, failed ones what the gateway
said.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q

from clinics.models import ContactPoint, Patient
from outreach.models import Booking, Message, OutreachSession
from outreach.services import local_datetime, london
from referrals.demo.records import Demo, PlannedBooking, render
from referrals.models import Referral

M = Message.Status
# What became of messages whose send time has passed, walked in order: mostly delivered.
_AFTER_SEND = [M.DELIVERED, M.DELIVERED, M.DELIVERED, M.SENT, M.DELIVERED, M.DELIVERED]
_AFTER_SEND += [M.FAILED, M.DELIVERED, M.DELIVERED, M.EXPIRED, M.DELIVERED, M.DELIVERED]
REMINDERS = [("48h", timedelta(hours=48)), ("2h", timedelta(hours=2))]
_FAILURES = [
    ("GOV.UK Notify: temporary-failure. The phone was off or out of signal for 72 hours.", False),
    ("GOV.UK Notify: permanent-failure. The number is not in service.", True),
]


@dataclass
class _Draft:
    key: str
    organisation: Any
    channel: str
    slot: tuple[str, str, bool]
    context: dict[str, str]
    send_after: datetime
    written_at: datetime
    patient: Patient | None = None
    recipient_user: Any = None
    booking: Booking | None = None
    to: str = ""
    status: str = M.SCHEDULED
    suppressed_reason: str = ""


def _suppressed_reason(point: ContactPoint | None) -> str:
    """Why nothing may be sent to this contact point, or "" if it may."""
    if point is None:
        return Message.SuppressedReason.NO_CONTACT
    if point.opted_out_at is not None:
        return Message.SuppressedReason.OPTED_OUT
    if not point.consent_given:
        return Message.SuppressedReason.NO_CONSENT
    return ""


class Outbox:
    """Collect the messages one run wants, decide their statuses, and write the new ones."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.drafts: list[_Draft] = []
        self.sent_count = 0
        self.failure_count = 0
        patient_ids = {p.pk for patients in demo.cohorts.values() for p in patients}
        self.contacts: dict[int, list[ContactPoint]] = {}
        for point in ContactPoint.objects.filter(patient_id__in=patient_ids):
            self.contacts.setdefault(point.patient_id, []).append(point)
        prefixes = Q()
        for prefix in ("booking:", "referral:", "digest:"):
            prefixes |= Q(idempotency_key__startswith=prefix)
        self.existing = set(
            Message.objects.filter(prefixes).values_list("idempotency_key", flat=True)
        )

    def point(self, patient: Patient, channel: str) -> ContactPoint | None:
        """The patient's contact point on `channel`, if they gave one."""
        points = [p for p in self.contacts.get(patient.pk, []) if p.channel == channel]
        return points[0] if points else None

    def to_patient(
        self,
        key: str,
        patient: Patient,
        organisation: Any,
        slot: tuple[str, str, bool],
        context: dict[str, str],
        *,
        send_after: datetime,
        written_at: datetime,
        booking: Booking | None = None,
        cancelled_at: datetime | None = None,
    ) -> None:
        """Queue a message to a patient, suppressed where consent or contact details are lacking."""
        if key in self.existing:
            return
        channel = slot[1]
        point = self.point(patient, channel)
        draft = _Draft(
            key=key,
            organisation=organisation,
            channel=channel,
            slot=slot,
            context={"first_name": patient.preferred_name, **context},
            send_after=send_after,
            written_at=min(written_at, send_after),
            patient=patient,
            booking=booking,
            to=point.value if point else "",
        )
        suppressed = _suppressed_reason(point)
        if suppressed:
            draft.status, draft.suppressed_reason = M.SUPPRESSED, suppressed
        elif cancelled_at is not None and send_after > cancelled_at:
            draft.status = M.CANCELLED
        elif send_after > self.demo.now:
            draft.status = M.SCHEDULED
        else:
            outcome = _AFTER_SEND[self.sent_count % len(_AFTER_SEND)]
            self.sent_count += 1
            # Only a reminder can go stale; a confirmation is sent as soon as it is written.
            if outcome == M.EXPIRED and slot[0] != "reminder":
                outcome = M.DELIVERED
            draft.status = outcome
        self.drafts.append(draft)

    def to_staff(
        self,
        key: str,
        user: Any,
        organisation: Any,
        slot: tuple[str, str, bool],
        context: dict[str, str],
        *,
        send_after: datetime,
    ) -> None:
        """Queue a message to a member of staff, such as the overdue referrals digest."""
        if key in self.existing:
            return
        self.drafts.append(
            _Draft(
                key=key,
                organisation=organisation,
                channel=slot[1],
                slot=slot,
                context={"first_name": user.first_name, **context},
                send_after=send_after,
                written_at=send_after,
                recipient_user=user,
                to=user.email,
                status=M.SCHEDULED if send_after > self.demo.now else M.DELIVERED,
            )
        )

    def write(self) -> None:
        """Mark the newest confirmation as being sent right now, then write every draft."""
        confirmations = [
            d
            for d in self.drafts
            if d.slot[0] == "booking_confirmation" and d.status == M.DELIVERED and d.booking
        ]
        if confirmations:
            max(confirmations, key=lambda d: d.send_after).status = M.SENDING
        for draft in self.drafts:
            self._write(draft)

    def _write(self, draft: _Draft) -> None:
        template = self.demo.templates.get(draft.slot)
        if template is None:
            return
        sent_at = delivered_at = None
        failure_detail, failure_permanent = "", False
        if draft.status in (M.SENT, M.DELIVERED, M.FAILED):
            sent_at = draft.send_after + timedelta(seconds=4)
        if draft.status == M.DELIVERED:
            delivered_at = sent_at + timedelta(seconds=37)
        if draft.status == M.FAILED:
            failure_detail, failure_permanent = _FAILURES[self.failure_count % len(_FAILURES)]
            self.failure_count += 1
        attempts = {M.SENDING: 1, M.SENT: 1, M.DELIVERED: 1, M.FAILED: 3}.get(draft.status, 0)
        reference = ""
        if sent_at is not None:
            digest = hashlib.sha256(draft.key.encode()).hexdigest()
            reference = (
                f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
            )
        message = Message.objects.create(
            organisation=draft.organisation,
            patient=draft.patient,
            recipient_user=draft.recipient_user,
            booking=draft.booking,
            template=template,
            channel=draft.channel,
            to=draft.to,
            subject=render(template.subject, draft.context),
            body=render(template.body, draft.context),
            send_after=draft.send_after,
            status=draft.status,
            suppressed_reason=draft.suppressed_reason,
            failure_permanent=failure_permanent,
            failure_detail=failure_detail,
            attempts=attempts,
            idempotency_key=draft.key,
            provider_reference=reference,
            sent_at=sent_at,
            delivered_at=delivered_at,
        )
        # Outbox rows are written in the transaction that caused them: date them so.
        Message.objects.filter(pk=message.pk).update(created_at=draft.written_at)


def _when(moment: datetime) -> dict[str, str]:
    local = moment.astimezone(london())
    return {"date": f"{local:%a} {local.day} {local:%b}", "time": f"{local:%H:%M}"}


def build_messages(demo: Demo, outbox: Outbox) -> None:
    """Queue the messages every booking-ahead and the coordinators' digests would have made."""
    for item in demo.plan:
        booking = demo.bookings.get(item.key)
        if booking is None or item.source == Booking.Source.WALK_IN:
            continue
        if booking.status == Booking.Status.ENTERED_IN_ERROR:
            continue
        _booking_messages(demo, outbox, item, booking)
    _digests(demo, outbox)


def _booking_messages(demo: Demo, outbox: Outbox, item: PlannedBooking, booking: Booking) -> None:
    session: OutreachSession = item.session
    discreet = item.service.sensitive
    context = {"service": item.service.name, "venue": session.venue.name, **_when(item.starts_at)}
    booked_at = booking.created_at
    cancelled_at = None
    if booking.status == Booking.Status.CANCELLED:
        # A session is called off as the demo loads; a patient cancels some days ahead.
        cancelled_at = demo.now if item.cancelled_with_session else item.settled_at
    prefix = f"booking:{booking.pk}"
    common = {"booking": booking, "written_at": booked_at, "cancelled_at": cancelled_at}
    outbox.to_patient(
        f"{prefix}:confirmation",
        item.patient,
        session.organisation,
        ("booking_confirmation", "sms", discreet),
        context,
        send_after=booked_at,
        **common,
    )
    email = outbox.point(item.patient, ContactPoint.Channel.EMAIL)
    if email is not None and email.may_contact:
        outbox.to_patient(
            f"{prefix}:confirmation:email",
            item.patient,
            session.organisation,
            ("booking_confirmation", "email", discreet),
            context,
            send_after=booked_at,
            **common,
        )
    # With no mobile there is nobody to remind: the confirmation row already says so.
    has_mobile = outbox.point(item.patient, ContactPoint.Channel.SMS) is not None
    for label, ahead in REMINDERS if has_mobile else []:
        send_after = item.starts_at - ahead
        if send_after <= booked_at:
            continue  # booked too late for this reminder
        outbox.to_patient(
            f"{prefix}:reminder:{label}",
            item.patient,
            session.organisation,
            ("reminder", "sms", discreet),
            context,
            send_after=send_after,
            **common,
        )
    if cancelled_at is not None:
        purpose = "session_cancelled" if item.cancelled_with_session else "cancellation"
        outbox.to_patient(
            f"{prefix}:{purpose}",
            item.patient,
            session.organisation,
            (purpose, "sms", discreet),
            context,
            send_after=cancelled_at,
            booking=booking,
            written_at=cancelled_at,
        )


def build_referral_update(outbox: Outbox, referral: Referral, when: datetime) -> None:
    """Tell the person their referral has an appointment, worded without naming the service."""
    outbox.to_patient(
        f"referral:{referral.pk}:booked",
        referral.patient,
        referral.organisation,
        ("referral_update", "sms", False),
        {"update": "they have offered you an appointment. We will help you get there."},
        send_after=when,
        written_at=when,
    )


def _digests(demo: Demo, outbox: Outbox) -> None:
    for username in ("coordinator", "nadia.marsden"):
        user = demo.users[username]
        organisation = user.staff.organisation
        overdue = Referral.objects.filter(organisation=organisation).overdue(demo.today).count()
        for days_ago in (14, 7, 0):
            day = demo.today - timedelta(days=days_ago)
            outbox.to_staff(
                f"digest:{username}:{day.isoformat()}",
                user,
                organisation,
                ("referral_digest", "email", False),
                {"count": str(overdue)},
                send_after=local_datetime(day, time(8, 0)),
            )
