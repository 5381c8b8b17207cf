"""The ways a report is split: each names the field it groups on for each kind of row.

Deprivation is the decile of the venue where the person was seen (for a referral, the venue
of the session it came from): we hold no postcode-to-area lookup, many people seen have no
fixed abode, and the venue is what a programme chooses. docs/reports.md says so.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F
from django.db.models.functions import TruncMonth

from clinics.models import PatientEthnicity, PatientHousing, PatientSex
from referrals.reports.period import london

NOT_RECORDED = "Not recorded"


def _choice_label(choices: Any) -> Callable[[Any, Any], str]:
    def label(key: Any, _extra: Any) -> str:
        if not key:
            return NOT_RECORDED
        try:
            return str(choices(key).label)
        except ValueError:
            return str(key)

    return label


def _choice_order(choices: Any) -> Callable[[Any], Any]:
    order = {value: index for index, value in enumerate(choices.values)}
    return lambda key: order.get(key, len(order))


def _decile_label(key: Any, _extra: Any) -> str:
    if key is None:
        return "Not known"
    if key == 1:
        return "1 (most deprived)"
    if key == 10:
        return "10 (least deprived)"
    return str(key)


def _blank_is_none(value: Any) -> Any:
    # An unrecorded choice is stored as "": reported as null, like every other unknown.
    return value or None


def _month_key(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(london()).date() if value.tzinfo else value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


@dataclass(frozen=True)
class Split:
    key: str
    label: str
    # For each kind of row ("booking", "referral", "patient"): the field or expression to
    # group on, and optionally a name field fetched in the same query.
    fields: dict[str, Any]
    names: dict[str, str]
    labeller: Callable[[Any, Any], str] = lambda key, name: str(name or key)
    order: Callable[[Any], Any] = lambda key: (key is None, key)
    normalise: Callable[[Any], Any] = lambda key: key

    def expression(self, kind: str) -> Any:
        found = self.fields[kind]
        return F(found) if isinstance(found, str) else found

    def name_field(self, kind: str) -> str | None:
        return self.names.get(kind)


def _month(field_name: str) -> Any:
    return TruncMonth(field_name, tzinfo=london())


SPLITS: dict[str, Split] = {
    split.key: split
    for split in [
        Split(
            "service",
            "Service",
            fields={"booking": "service_type_id"},
            names={"booking": "service_type__name"},
            order=lambda key: key,
        ),
        Split(
            "venue",
            "Venue",
            fields={"booking": "session__venue_id"},
            names={"booking": "session__venue__name"},
            order=lambda key: key,
        ),
        Split(
            "destination",
            "Destination",
            fields={"referral": "destination_id"},
            names={"referral": "destination__name"},
            order=lambda key: key,
        ),
        Split(
            "month",
            "Month",
            fields={"booking": _month("session__starts_at"), "referral": _month("sent_at")},
            names={},
            labeller=lambda key, _name: f"{key:%B %Y}" if key else NOT_RECORDED,
            normalise=_month_key,
        ),
        Split(
            "deprivation",
            "Deprivation decile (IMD) of the venue",
            fields={
                "booking": "session__venue__imd_decile",
                "referral": "source_session__venue__imd_decile",
                "patient": "seen_decile",
            },
            names={},
            labeller=_decile_label,
        ),
        Split(
            "ethnicity",
            "Ethnic category",
            fields={
                "booking": "patient__ethnicity",
                "referral": "patient__ethnicity",
                "patient": "ethnicity",
            },
            names={},
            labeller=_choice_label(PatientEthnicity),
            order=_choice_order(PatientEthnicity),
            normalise=_blank_is_none,
        ),
        Split(
            "housing",
            "Housing status",
            fields={
                "booking": "patient__housing_status",
                "referral": "patient__housing_status",
                "patient": "housing_status",
            },
            names={},
            labeller=_choice_label(PatientHousing),
            order=_choice_order(PatientHousing),
        ),
        Split(
            "sex",
            "Sex",
            fields={"booking": "patient__sex", "referral": "patient__sex", "patient": "sex"},
            names={},
            labeller=_choice_label(PatientSex),
            order=_choice_order(PatientSex),
            normalise=_blank_is_none,
        ),
    ]
}


def splits_for(kind: str) -> list[Split]:
    return [split for split in SPLITS.values() if kind in split.fields]
