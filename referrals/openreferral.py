"""The destination directory in Open Referral UK (HSDS 3) JSON, out and back in.

Export is a page of HSDS `service` objects, as an Open Referral UK `/services` endpoint answers.
What HSDS has a field for goes there (name, description, url, email, status, organization,
phones, service_areas, locations with addresses, eligibility_description); what it does not
(our category, route and response target) travels as `attributes` under our own taxonomy
vocabularies, so a round trip loses nothing we store.

Ids are UUIDs derived from the name and area (unique together in the directory), so exporting
twice gives the same ids and re-importing updates rather than duplicates.
"""

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinics.domain import DomainError
from referrals.models import Destination

NAMESPACE = uuid.UUID("5b0c6c5e-2b7e-4e0a-9a57-2f3c1d1c0b01")
CATEGORY_VOCABULARY = "outreach-destination-category"
ROUTE_VOCABULARY = "outreach-referral-route"
RESPONSE_VOCABULARY = "outreach-response-target-days"


class ImportFileError(DomainError):
    """The file is not a directory we can read; nothing was imported."""

    code = "invalid_import"
    status_code = 400


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def _attribute(service_id: str, vocabulary: str, code: str, value: str = "") -> dict[str, Any]:
    return {
        "id": _id(service_id, vocabulary),
        "link_id": service_id,
        "link_type": "service",
        "link_entity": "service",
        "value": value or code,
        "taxonomy_term": {
            "id": _id(vocabulary, code),
            "code": code,
            "name": code,
            "vocabulary": vocabulary,
        },
    }


def service_from(destination: Destination) -> dict[str, Any]:
    """One destination as an HSDS 3 service object."""
    sid = _id("service", destination.name, destination.area)
    service: dict[str, Any] = {
        "id": sid,
        "name": destination.name,
        "description": destination.description,
        "url": destination.url or None,
        "email": destination.email or None,
        "status": "active" if destination.is_active else "inactive",
        "eligibility_description": destination.eligibility_notes or None,
        "last_modified": destination.updated_at.isoformat() if destination.updated_at else None,
        "organization": {"id": _id("organization", destination.provider),
                         "name": destination.provider},
        "phones": (
            [{"id": _id(sid, "phone"), "number": destination.phone}] if destination.phone else []
        ),
        "service_areas": (
            [{"id": _id(sid, "area"), "name": destination.area}] if destination.area else []
        ),
        "service_at_locations": [],
        "attributes": [
            _attribute(sid, CATEGORY_VOCABULARY, destination.category),
            _attribute(sid, ROUTE_VOCABULARY, destination.route),
            _attribute(
                sid, RESPONSE_VOCABULARY, "days", str(destination.response_target_days)
            ),
        ],
    }  # fmt: skip
    if destination.address or destination.postcode:
        service["service_at_locations"].append(
            {
                "id": _id(sid, "service_at_location"),
                "location": {
                    "id": _id(sid, "location"),
                    "location_type": "physical",
                    "name": destination.name,
                    "addresses": [
                        {
                            "id": _id(sid, "address"),
                            "address_1": destination.address,
                            "city": destination.area,
                            "postal_code": destination.postcode,
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                },
            }
        )
    return service


# Called as progress(done, total) by the long actions, so a page can show how far they are.
Progress = Callable[[int, int], None]


def export_directory(destinations: Any = None, progress: Progress | None = None) -> dict[str, Any]:
    """The whole directory (or `destinations`) as one Open Referral UK page of services."""
    rows = list(destinations if destinations is not None else Destination.objects.all())
    contents = []
    for index, destination in enumerate(rows):
        contents.append(service_from(destination))
        if progress is not None:
            progress(index + 1, len(rows))
    return {
        "total_items": len(contents),
        "total_pages": 1,
        "page_number": 1,
        "size": len(contents),
        "first_page": True,
        "last_page": True,
        "empty": not contents,
        "contents": contents,
    }


def _text(value: Any, where: str, field: str, *, limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportFileError(f"{where}: `{field}` must be text.")
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise ImportFileError(f"{where}: `{field}` is longer than {limit} characters.")
    return value


def _attributes(service: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    found = {}
    for attribute in service.get("attributes") or []:
        term = attribute.get("taxonomy_term") if isinstance(attribute, dict) else None
        if not isinstance(term, dict):
            raise ImportFileError(f"{where}: each attribute needs a `taxonomy_term`.")
        found[term.get("vocabulary")] = {"code": term.get("code"), "value": attribute.get("value")}
    return found


def _guess_route(fields: dict[str, Any]) -> str:
    # A directory from elsewhere has no route of ours: take the most direct way it offers.
    if fields["email"]:
        return Destination.Route.EMAIL
    if fields["phone"]:
        return Destination.Route.PHONE
    if fields["url"]:
        return Destination.Route.PORTAL
    return Destination.Route.WALK_IN


def destination_fields(service: Any, index: int) -> dict[str, Any]:
    """Read one HSDS service into Destination fields, or say exactly what is wrong."""
    where = f"Service {index + 1}"
    if not isinstance(service, dict):
        raise ImportFileError(f"{where} is not an object.")
    name = _text(service.get("name"), where, "name", limit=200)
    if not name:
        raise ImportFileError(f"{where} has no name.")
    where = f"Service {index + 1} ({name})"
    organization = service.get("organization") or {}
    areas = service.get("service_areas") or []
    phones = service.get("phones") or []
    if (
        not isinstance(organization, dict)
        or not isinstance(areas, list)
        or not isinstance(phones, list)
    ):
        raise ImportFileError(f"{where}: organization, service_areas or phones is malformed.")
    address: dict[str, Any] = {}
    for link in service.get("service_at_locations") or []:
        location = link.get("location") if isinstance(link, dict) else None
        if isinstance(location, dict) and location.get("addresses"):
            address = location["addresses"][0]
            break
    fields = {
        "name": name,
        "description": _text(service.get("description"), where, "description"),
        "url": _text(service.get("url"), where, "url", limit=200),
        "email": _text(service.get("email"), where, "email", limit=254),
        "provider": _text(organization.get("name"), where, "organization.name", limit=200),
        "area": _text(areas[0].get("name") if areas else "", where, "service_areas", limit=120),
        "phone": _text(phones[0].get("number") if phones else "", where, "phones", limit=30),
        "address": _text(address.get("address_1"), where, "address_1"),
        "postcode": _text(address.get("postal_code"), where, "postal_code", limit=8),
        "eligibility_notes": _text(
            service.get("eligibility_description"), where, "eligibility_description"
        ),
        "is_active": service.get("status", "active") == "active",
    }
    attributes = _attributes(service, where)
    category = (attributes.get(CATEGORY_VOCABULARY) or {}).get("code") or "other"
    if category not in Destination.Category.values:
        raise ImportFileError(f"{where}: unknown category '{category}'.")
    route = (attributes.get(ROUTE_VOCABULARY) or {}).get("code") or _guess_route(fields)
    if route not in Destination.Route.values:
        raise ImportFileError(f"{where}: unknown referral route '{route}'.")
    days = (attributes.get(RESPONSE_VOCABULARY) or {}).get("value") or 14
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ImportFileError(f"{where}: the response target must be a number of days.") from None
    if not 1 <= days <= 365:
        raise ImportFileError(f"{where}: the response target must be 1 to 365 days.")
    fields.update(category=category, route=route, response_target_days=days)
    return fields


def services_in(raw: bytes | str) -> list[Any]:
    """The file's list of services, each an object; raise ImportFileError if it is not one.

    Only the file's shape: cheap enough to check before an import is queued, so a file that
    is not a directory at all is refused at once instead of failing later in the background.
    """
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportFileError(f"The file is not valid JSON: {error}.") from None
    if isinstance(document, dict):
        # An Open Referral UK page ("contents"), or a bare {"services": [...]}.
        services = document.get("contents", document.get("services"))
    else:
        services = document
    if not isinstance(services, list):
        raise ImportFileError("Expected a list of services, or a page with `contents`.")
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            raise ImportFileError(f"Service {index + 1} is not an object.")
    return services


def parse(raw: bytes | str) -> list[dict[str, Any]]:
    """Read a file into a list of Destination field sets; raise ImportFileError if malformed."""
    services = services_in(raw)
    rows = [destination_fields(service, index) for index, service in enumerate(services)]
    seen = set()
    for row in rows:
        key = (row["name"], row["area"])
        if key in seen:
            raise ImportFileError(f"'{row['name']}' in '{row['area']}' appears twice.")
        seen.add(key)
    return rows


def import_directory(raw: bytes | str, progress: Progress | None = None) -> dict[str, int]:
    """Create or update destinations from an HSDS 3 file: all of it, or nothing.

    Every service is checked before anything is written, so `progress` can report the slow
    part while it runs: progress written inside the one transaction would not be seen by
    anyone until it committed.
    """
    rows = parse(raw)
    existing = {
        (destination.name, destination.area): destination
        for destination in Destination.objects.filter(name__in=[row["name"] for row in rows])
    }
    checked = []
    created = updated = 0
    for index, row in enumerate(rows):
        destination = existing.get((row["name"], row["area"]))
        if destination is None:
            destination = Destination(**row)
            created += 1
        else:
            for field, value in row.items():
                setattr(destination, field, value)
            updated += 1
        try:
            destination.full_clean()
        except ValidationError as error:
            raise ImportFileError(
                f"'{row['name']}' is not a valid destination.", fields=error.message_dict
            ) from None
        checked.append(destination)
        if progress is not None:
            progress(index + 1, len(rows))
    try:
        with transaction.atomic():
            for destination in checked:
                destination.save()
    except IntegrityError:
        # Someone added one of these destinations while the file was being checked.
        raise ImportFileError(
            "The directory changed while the file was being checked: import it again."
        ) from None
    return {"created": created, "updated": updated}
