"""What outreach holds about a patient, for subject access, anonymisation and retention.

Registered with clinics.data_protection when the app is ready.
"""

from datetime import datetime
from typing import Any

from django.db.models import Expression

from clinics.data_protection import (
    REMOVED,
    PatientDataProvider,
    history_rows,
    latest_of,
    register_provider,
    rows,
    save_scrubbed,
    scrub_history,
)
from clinics.models import Patient
from outreach.models import Booking, InboundMessage, Message, VisitOutcome, WaitlistEntry


def _export(patient: Patient) -> dict[str, list[dict[str, Any]]]:
    bookings = Booking.objects.filter(patient=patient).order_by("starts_at", "id")
    outcomes = VisitOutcome.objects.filter(booking__patient=patient).order_by("id")
    return {
        "bookings": rows(bookings),
        "booking_history": history_rows(Booking.history.filter(patient_id=patient.pk)),
        "visit_outcomes": rows(outcomes),
        "visit_outcome_history": history_rows(
            VisitOutcome.history.filter(booking__patient_id=patient.pk)
        ),
        "waiting_list_entries": rows(WaitlistEntry.objects.filter(patient=patient).order_by("id")),
        "messages": rows(Message.objects.filter(patient=patient).order_by("send_after", "id")),
        "replies": rows(InboundMessage.objects.filter(patient=patient).order_by("received_at")),
    }


def _open_work(patient: Patient, now: datetime) -> list[str]:
    reasons = []
    future = Booking.objects.filter(patient=patient, starts_at__gte=now).active().count()
    if future:
        reasons.append(f"{future} future booking{'s' if future > 1 else ''}")
    waiting = WaitlistEntry.objects.filter(
        patient=patient,
        status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED],
    ).count()
    if waiting:
        reasons.append(f"{waiting} waiting-list entr{'ies' if waiting > 1 else 'y'}")
    return reasons


def _anonymise(patient: Patient, by: Any) -> None:
    # Free text may name the person; the codes, times and statuses reports count stay.
    with_text = Booking.objects.filter(patient=patient).exclude(notes="", cancellation_reason="")
    for booking in with_text:
        booking.notes = booking.cancellation_reason = ""
        save_scrubbed(booking, by=by)
    scrub_history(Booking, {"patient_id": patient.pk}, notes="", cancellation_reason="")
    for outcome in VisitOutcome.objects.filter(booking__patient=patient).exclude(notes=""):
        outcome.notes = ""
        save_scrubbed(outcome, by=by)
    scrub_history(VisitOutcome, {"booking__patient_id": patient.pk}, notes="")
    # Neither the waiting list nor the outbox keeps a history.
    WaitlistEntry.objects.filter(patient=patient).update(notes="")
    Message.objects.filter(patient=patient).update(to="", subject="", body=REMOVED)
    InboundMessage.objects.filter(patient=patient).update(from_number="", body=REMOVED)


def _last_contact() -> Expression:
    return latest_of(Booking.objects.all(), "starts_at")


register_provider(
    PatientDataProvider(
        name="outreach",
        export=_export,
        open_work=_open_work,
        anonymise=_anonymise,
        last_contact=_last_contact,
    )
)
