"""Writes to the destination directory made by hand (the Open Referral import has its own)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clinics.domain import DomainError
from referrals.models import Destination

# In the order forms and the API show them.
EDITABLE_FIELDS = (
    "name",
    "category",
    "provider",
    "description",
    "route",
    "email",
    "phone",
    "url",
    "address",
    "postcode",
    "area",
    "response_target_days",
    "eligibility_notes",
    "is_active",
)


def _save(destination: Destination) -> Destination:
    try:
        destination.full_clean()
    except ValidationError as error:
        fields = {
            name: " ".join(messages)
            for name, messages in error.message_dict.items()
            if name != "__all__"
        }
        general = error.message_dict.get("__all__", [])
        if general and not fields:
            # The one table-wide rule: a name may be used once per area.
            fields["name"] = " ".join(general)
        raise DomainError(
            "Check the destination's details.", code="invalid", fields=fields
        ) from error
    destination.save()
    return destination


@transaction.atomic
def create_destination(*, by: Any, **fields: Any) -> Destination:
    """Add a service to the directory that people can be referred to."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These cannot be set: {', '.join(sorted(unknown))}.")
    return _save(Destination(**fields))


@transaction.atomic
def update_destination(destination: Destination, *, by: Any, **changes: Any) -> Destination:
    """Change a directory entry; open referrals to it keep the due dates they were given."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    locked = Destination.objects.select_for_update().get(pk=destination.pk)
    for name, value in changes.items():
        setattr(locked, name, value)
    return _save(locked)
