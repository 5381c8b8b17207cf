"""A referral as a FHIR R4 ServiceRequest, shaped to the UK Core profile.

Only what we hold is exported: no contained Patient resource, just a logical reference by NHS
number where we know it, which is what a receiving system matches on.
"""

from typing import Any

from django.utils import timezone

from referrals.models import Referral

UK_CORE_SERVICE_REQUEST = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# Our own identifier system for referral ids, so a receiver can quote ours back.
REFERRAL_ID_SYSTEM = "https://outreach.example/Id/referral"

# Our statuses onto FHIR request-status (draft | active | on-hold | revoked | completed |
# entered-in-error | unknown). A rejection or a lost referral ended without being carried out,
# which FHIR calls revoked; attended is still active until the loop is closed.
FHIR_STATUS = {
    Referral.Status.DRAFT: "draft",
    Referral.Status.SENT: "active",
    Referral.Status.ACCEPTED: "active",
    Referral.Status.BOOKED: "active",
    Referral.Status.ATTENDED: "active",
    Referral.Status.CLOSED: "completed",
    Referral.Status.REJECTED: "revoked",
    Referral.Status.WITHDRAWN: "revoked",
    Referral.Status.LOST: "revoked",
}
# request-priority is routine | urgent | asap | stat; a two-week wait is the suspected-cancer
# pathway, which UK systems carry as asap.
FHIR_PRIORITY = {
    Referral.Priority.ROUTINE: "routine",
    Referral.Priority.URGENT: "urgent",
    Referral.Priority.TWO_WEEK_WAIT: "asap",
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def service_request(referral: Referral) -> dict[str, Any]:
    """Return the referral as a ServiceRequest resource (a JSON-ready dict)."""
    patient = referral.patient
    subject: dict[str, Any] = {"display": patient.preferred_name}
    if patient.nhs_number:
        subject["identifier"] = {"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number}
    organisation = referral.organisation
    requester_org = {"display": organisation.name}
    ods = f" (ODS {organisation.ods_code})" if organisation.ods_code else ""
    referrer = referral.referrer
    destination = referral.destination
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": {"profile": [UK_CORE_SERVICE_REQUEST]},
        "identifier": [{"system": REFERRAL_ID_SYSTEM, "value": str(referral.pk)}],
        "status": FHIR_STATUS[referral.status],
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "3457005",
                        "display": "Patient referral",
                    }
                ],
                "text": destination.get_category_display(),
            }
        ],
        "priority": FHIR_PRIORITY[referral.priority],
        "code": {"text": destination.get_category_display()},
        "subject": subject,
        "authoredOn": _iso(referral.sent_at or referral.created_at),
        "requester": {"display": referrer.get_full_name() or referrer.get_username()},
        "performer": [{"display": str(destination)}],
        "reasonCode": [{"text": referral.reason}],
        # Without a contained PractitionerRole there is nowhere structured for the referrer's
        # organisation, so it is named (with its ODS code) in the first note.
        "note": [{"text": f"Referred by {requester_org['display']}{ods}."}],
    }
    if referral.previous_referral_id:
        resource["replaces"] = [{"reference": f"ServiceRequest/{referral.previous_referral_id}"}]
    if referral.appointment_at:
        resource["occurrenceDateTime"] = _iso(referral.appointment_at)
    elif referral.due_date:
        # Not yet booked: the window in which we expect the service to respond.
        start = referral.sent_at or referral.created_at
        resource["occurrencePeriod"] = {
            "start": timezone.localdate(start).isoformat(),
            "end": referral.due_date.isoformat(),
        }
    if referral.consent_to_share and referral.consent_recorded_at:
        resource["note"].append(
            {
                "time": _iso(referral.consent_recorded_at),
                "text": "Consent to share recorded "
                f"({referral.get_consent_method_display().lower() or 'method not recorded'}).",
            }
        )
    if referral.rejection_reason:
        resource["note"].append({"text": f"Rejected: {referral.get_rejection_reason_display()}."})
    if referral.outcome_notes:
        resource["note"].append({"text": referral.outcome_notes})
    return resource
