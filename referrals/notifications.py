"""Messages about referrals, written as outbox rows in the caller's transaction.

Nothing here sends: the messaging poller picks up `scheduled` rows. A referral to a sensitive
service (sexual health, colposcopy) is described without naming the service or the clinic, since
a text read over someone's shoulder must never out them.
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from clinics.models import ContactPoint, Organisation, StaffMember
from outreach.messaging.outbox import choose_contact, queue_message
from outreach.models import Message, MessageTemplate
from referrals.models import Destination, Referral

SENSITIVE_CATEGORIES = {Destination.Category.SEXUAL_HEALTH, Destination.Category.COLPOSCOPY}

# What happens next, for each event the patient is told about.
_NEXT_STEPS = {
    "sent": "we have sent the referral. They should get in touch within {days} days.",
    "accepted": "they have accepted the referral and will contact you to arrange an appointment.",
    "booked": "they have offered you an appointment{when}. We will help you get there.",
}
_DISCREET_NEXT_STEPS = {
    "sent": "we have passed on your details as agreed. Someone should be in touch soon.",
    "accepted": "the service has your details and will contact you.",
    "booked": "an appointment has been arranged{when}. Call us if you need help getting there.",
}


def is_sensitive(referral: Referral) -> bool:
    """Sensitive by destination, or because it came from a sensitive service's visit."""
    if referral.destination.category in SENSITIVE_CATEGORIES:
        return True
    booking = referral.source_booking
    return bool(booking and booking.service_type.sensitive)


def render(text: str, values: dict[str, str]) -> str:
    """Fill {{ name }} placeholders; unknown ones are left as they are for the editor to see."""
    for key, value in values.items():
        text = text.replace("{{ " + key + " }}", value).replace("{{" + key + "}}", value)
    return text


def _template(purpose: str, channel: str, *, discreet: bool) -> MessageTemplate | None:
    return MessageTemplate.objects.filter(
        purpose=purpose, channel=channel, discreet=discreet, is_active=True
    ).first()


def tell_patient(referral: Referral, event: str) -> Message:
    """Write the 'what happens next' message for `event` (sent, accepted, booked); once each."""
    key = f"referral:{referral.pk}:{event}"
    existing = Message.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    discreet = is_sensitive(referral)
    contact = choose_contact(referral.patient)
    channel = contact.channel if contact else ContactPoint.Channel.SMS
    when = ""
    if referral.appointment_at:
        local = timezone.localtime(referral.appointment_at)
        when = f" on {local:%A %d %B at %H:%M}"
    steps = (_DISCREET_NEXT_STEPS if discreet else _NEXT_STEPS)[event]
    update = steps.format(days=referral.destination.response_target_days, when=when)
    values = {
        "first_name": referral.patient.preferred_name,
        "update": update,
        "service": "" if discreet else referral.destination.name,
    }
    # Without a discreet template on file a sensitive referral falls back to the built-in
    # discreet text, never to the plain template that may name the service.
    template = _template(MessageTemplate.Purpose.REFERRAL_UPDATE, channel, discreet=discreet)
    if template is not None:
        body = render(template.body, values)
        subject = render(template.subject, values)
    else:
        body = f"Hi {values['first_name']}, news about the referral we made for you: {update}"
        subject = "An update from the outreach team" if channel == "email" else ""
    # The outbox applies consent, opt-out and quiet hours, and records why a message may not go.
    return queue_message(
        organisation=referral.organisation,
        patient=referral.patient,
        template=template,
        purpose=MessageTemplate.Purpose.REFERRAL_UPDATE,
        # Tells the sender to use its neutral sender name as well as the discreet wording.
        discreet=discreet,
        channel=channel,
        to=contact.value if contact else "",
        subject=subject,
        body=body,
        idempotency_key=key,
    )


def coordinators_of(organisation: Organisation) -> list[Any]:
    """Active coordinators of the organisation who have an email address."""
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            staff__organisation=organisation,
            staff__is_active=True,
            staff__role=StaffMember.Role.COORDINATOR,
        )
        .exclude(email="")
        .order_by("pk")
    )


def write_digest(organisation: Organisation, counts: dict[str, int], day: date) -> list[Message]:
    """Write today's worklist digest to each coordinator; a second run the same day adds none."""
    written = []
    template = _template(MessageTemplate.Purpose.REFERRAL_DIGEST, "email", discreet=False)
    for user in coordinators_of(organisation):
        key = f"referral-digest:{organisation.pk}:{user.pk}:{day.isoformat()}"
        if Message.objects.filter(idempotency_key=key).exists():
            continue
        values = {
            "first_name": user.first_name or user.get_username(),
            "count": str(counts["overdue"]),
            "accepted_not_booked": str(counts["accepted_not_booked"]),
            "attended_not_closed": str(counts["attended_not_closed"]),
        }
        if template is not None:
            body, subject = render(template.body, values), render(template.subject, values)
        else:
            subject = f"{values['count']} referrals need chasing"
            body = (
                f"Hello {values['first_name']},\n\n"
                f"{values['count']} referrals are past their response date, "
                f"{values['accepted_not_booked']} were accepted but are not booked yet and "
                f"{values['attended_not_closed']} were attended but are not closed.\n\n"
                "Open Outreach to see the worklists."
            )
        written.append(
            queue_message(
                organisation=organisation,
                recipient_user=user,
                template=template,
                purpose=MessageTemplate.Purpose.REFERRAL_DIGEST,
                channel=ContactPoint.Channel.EMAIL,
                to=user.email,
                subject=subject,
                body=body,
                idempotency_key=key,
            )
        )
    return written
