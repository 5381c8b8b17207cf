"""The referral letter for email routes (NHSmail, email): a subject, plain text and HTML.

The plain text and the HTML say the same thing; the HTML is escaped field by field because
reasons and names are typed by staff and must never become markup in someone's inbox.
"""

from typing import Any

from django.utils import timezone
from django.utils.html import escape, linebreaks

from referrals.models import Referral


def _lines(referral: Referral) -> list[tuple[str, str]]:
    patient = referral.patient
    referrer = referral.referrer
    born = ""
    if patient.date_of_birth:
        born = f"{patient.date_of_birth:%d %b %Y}"
    elif patient.year_of_birth:
        born = str(patient.year_of_birth)
    rows = [
        ("Referral", f"#{referral.pk}"),
        ("Priority", referral.get_priority_display()),
        ("To", str(referral.destination)),
        ("Name", patient.legal_name or patient.preferred_name),
        ("Known as", patient.preferred_name),
        ("NHS number", patient.nhs_number or "not known"),
        ("Born", born or "not known"),
        ("Referred by", f"{referrer.get_full_name() or referrer.get_username()}, "
         f"{referral.organisation.name}"),
        ("Response due", f"{referral.due_date:%d %b %Y}" if referral.due_date else "not set"),
    ]  # fmt: skip
    if referral.consent_recorded_at:
        when = timezone.localtime(referral.consent_recorded_at)
        rows.append(
            (
                "Consent to share",
                f"{referral.get_consent_method_display()}, recorded {when:%d %b %Y %H:%M}",
            )
        )
    if referral.previous_referral_id:
        rows.append(("Re-referral of", f"#{referral.previous_referral_id}"))
    return rows


def referral_summary(referral: Referral) -> dict[str, Any]:
    """Return {"subject", "text", "html"} for sending the referral by email."""
    rows = _lines(referral)
    subject = f"{referral.get_priority_display()} referral #{referral.pk} from " + (
        referral.organisation.name
    )
    text = "\n".join(
        [
            subject,
            "",
            *(f"{label}: {value}" for label, value in rows),
            "",
            "Reason for referral:",
            referral.reason,
            "",
            "Please reply to this email to accept or decline the referral.",
        ]
    )
    table = "".join(
        f"<tr><th scope='row'>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in rows
    )
    html = (
        f"<h1>{escape(subject)}</h1>"
        f"<table>{table}</table>"
        f"<h2>Reason for referral</h2>{linebreaks(referral.reason, autoescape=True)}"
        "<p>Please reply to this email to accept or decline the referral.</p>"
    )
    return {"subject": subject, "text": text, "html": html}
