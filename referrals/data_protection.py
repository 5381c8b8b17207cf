"""What referrals holds about a patient, for subject access, anonymisation and retention.

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
from referrals.models import Referral, ReferralChase


def _export(patient: Patient) -> dict[str, list[dict[str, Any]]]:
    return {
        "referrals": rows(Referral.objects.filter(patient=patient).order_by("created_at", "id")),
        "referral_history": history_rows(Referral.history.filter(patient_id=patient.pk)),
        "referral_chases": rows(
            ReferralChase.objects.filter(referral__patient=patient).order_by("id")
        ),
    }


def _open_work(patient: Patient, now: datetime) -> list[str]:
    count = Referral.objects.filter(patient=patient).open().count()
    return [f"{count} open referral{'s' if count > 1 else ''}"] if count else []


def _anonymise(patient: Patient, by: Any) -> None:
    for referral in Referral.objects.filter(patient=patient):
        referral.reason, referral.outcome_notes = REMOVED, ""
        save_scrubbed(referral, by=by)
    scrub_history(Referral, {"patient_id": patient.pk}, reason=REMOVED, outcome_notes="")
    # The chase log keeps no history.
    ReferralChase.objects.filter(referral__patient=patient).update(notes="")


def _last_contact() -> Expression:
    return latest_of(Referral.objects.all(), "updated_at")


register_provider(
    PatientDataProvider(
        name="referrals",
        export=_export,
        open_work=_open_work,
        anonymise=_anonymise,
        last_contact=_last_contact,
    )
)
