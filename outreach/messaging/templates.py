"""Writes to message templates: the wording of every SMS and email."""

from typing import Any

from django.db import transaction

from outreach.models import MessageTemplate


@transaction.atomic
def save_message_template(
    template: MessageTemplate | None = None, *, by: Any, **fields: Any
) -> MessageTemplate:
    """Add a template, or change one; its placeholders are checked against its channel.

    A discreet template may not name the service, clinic or venue (`validate_template`), and
    only one active template per purpose, channel and variant is allowed: both are checked by
    the model before saving, so a bad one is a field error rather than a database error.
    """
    template = template or MessageTemplate()
    for name, value in fields.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    return template
