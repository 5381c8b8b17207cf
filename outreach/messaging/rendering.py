"""A safe subset of templating: `{{ name }}` placeholders from a fixed list, nothing else.

Templates are edited in the admin by staff, so they must not reach Django's template language
(attribute lookups, tags, filters). Discreet templates, used for sensitive services, may not
name the service, the clinic or the venue: a text read over someone's shoulder must not out them.
"""

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

PLACEHOLDER = re.compile(r"{{\s*([a-z_]+)\s*}}")
ALLOWED = frozenset({"first_name", "day", "date", "time", "service", "clinic", "venue", "reason"})
# What a discreet template may mention: nothing that says what or where the appointment is.
DISCREET_ALLOWED = frozenset({"first_name", "day", "date", "time"})
# GOV.UK Notify refuses a text longer than 918 characters (six SMS fragments).
SMS_MAX_LENGTH = 918
# Values used to measure a template's longest likely rendering when it is saved.
_SAMPLE = {
    "first_name": "Alexandrina",
    "day": "Wednesday",
    "date": "Wednesday 30 September",
    "time": "10:45",
    "service": "Dry blood spot test (blood-borne viruses)",
    "clinic": "Homeless Health Hub bus, Cathedral Square",
    "venue": "Cathedral Square, Peterborough",
    "reason": "The bus has broken down and cannot come today.",
}

# Built-in wording, used when no active template exists for a purpose and channel.
DEFAULTS: dict[tuple[str, bool], tuple[str, str]] = {
    ("reminder", False): (
        "Your appointment",
        "Hi {{ first_name }}, a reminder of your {{ service }} appointment on {{ date }} at "
        "{{ time }}, {{ venue }}. Reply C to confirm or X to cancel. Reply STOP for no more texts.",
    ),
    ("reminder", True): (
        "Your appointment",
        "Hi {{ first_name }}, a reminder of your appointment on {{ date }} at {{ time }}. "
        "Reply C to confirm or X to cancel. Reply STOP for no more texts.",
    ),
    ("cancellation", False): (
        "Appointment cancelled",
        "Hi {{ first_name }}, sorry: your {{ service }} appointment on {{ date }} at {{ time }} "
        "at {{ venue }} is cancelled. We will be in touch to rebook.",
    ),
    ("cancellation", True): (
        "Appointment cancelled",
        "Hi {{ first_name }}, sorry: your appointment on {{ date }} at {{ time }} is cancelled. "
        "We will be in touch to rebook.",
    ),
    ("session_cancelled", False): (
        "Clinic cancelled",
        "Hi {{ first_name }}, sorry: the {{ clinic }} on {{ date }} is cancelled, so your "
        "{{ time }} appointment will not go ahead. We will be in touch to rebook.",
    ),
    ("session_cancelled", True): (
        "Appointment cancelled",
        "Hi {{ first_name }}, sorry: your appointment on {{ date }} at {{ time }} cannot go "
        "ahead. We will be in touch to rebook.",
    ),
}


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, context: Mapping[str, str]) -> str:
    """Fill each known placeholder; an unknown or missing one becomes empty, never code."""
    return PLACEHOLDER.sub(lambda match: str(context.get(match.group(1), "")), text)


def validate_template(body: str, *, channel: str, discreet: bool) -> None:
    """Refuse unknown placeholders, revealing ones in a discreet template, and over-long texts."""
    errors: list[str] = []
    stray = re.sub(PLACEHOLDER, "", body)
    if "{{" in stray or "}}" in stray or "{%" in body:
        errors.append("Use only {{ name }} placeholders: no tags, filters or dotted names.")
    used = placeholders(body)
    unknown = used - ALLOWED
    if unknown:
        errors.append(
            f"Unknown placeholders: {', '.join(sorted(unknown))}. "
            f"Use: {', '.join(sorted(ALLOWED))}."
        )
    revealing = (used & ALLOWED) - DISCREET_ALLOWED
    if discreet and revealing:
        errors.append(
            "A discreet template must not name the service, clinic or venue: remove "
            + ", ".join(sorted(revealing))
            + "."
        )
    if channel == "sms":
        longest = len(render(body, _SAMPLE))
        if longest > SMS_MAX_LENGTH:
            errors.append(
                f"Too long for a text: up to {longest} characters once filled in; "
                f"the limit is {SMS_MAX_LENGTH}."
            )
    if errors:
        raise ValidationError({"body": errors})
