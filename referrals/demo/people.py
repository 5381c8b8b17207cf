"""Invented patients: a spread of housing, ethnicity, sex, registration and contact consent."""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from clinics.models import ContactPoint, Patient
from referrals.demo.cohorts import COHORTS, SURNAMES, CohortSpec, PersonSpec
from referrals.demo.records import Demo, upsert, weighted

# People were registered before the demo's first session, so a first visit is not also the
# day the record was made.
HISTORY_PADDING = 30
_NO_FIXED_ABODE = {"rough_sleeping"}
_GP_ODDS = {
    "rough_sleeping": {"no": 5, "unknown": 3, "yes": 2},
    "sofa_surfing": {"no": 3, "unknown": 3, "yes": 4},
    "hostel": {"yes": 5, "no": 3, "unknown": 2},
}


def demo_nhs_numbers() -> Iterator[str]:
    """Yield NHS numbers in the 999 test range that pass the modulus 11 check.

    Numbers starting 999 are never issued to real people, so they are safe in demo data.
    """
    for serial in range(1000):
        nine = f"999000{serial:03d}"
        total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            yield nine + str(check)


def build_people(demo: Demo) -> None:
    """Register every cohort's patients and their contact points."""
    nhs_numbers = demo_nhs_numbers()
    phone_serial = 0
    for cohort_key, cohort in COHORTS.items():
        patients = []
        for person in cohort.people:
            # Every random draw happens whether or not the row exists, so a second run makes
            # exactly the same choices as the first.
            values, contacts, registered_at = _describe(demo, cohort, person, nhs_numbers)
            creator = demo.users[cohort.registered_by]
            patient, _ = upsert(
                Patient,
                {
                    "organisation": demo.orgs[cohort.organisation],
                    "preferred_name": person.preferred_name,
                    "created_by": creator,
                },
                values,
                by=creator,
                reason="Registered by the outreach team",
                when=registered_at,
            )
            for channel, wants, consent, opted_out in contacts:
                if channel == ContactPoint.Channel.SMS:
                    phone_serial += 1
                    value = f"+447700900{phone_serial:03d}"
                else:
                    value = f"{person.preferred_name.lower()}.{phone_serial:03d}@example.com"
                if not wants:
                    continue
                upsert(
                    ContactPoint,
                    {"patient": patient, "channel": channel, "value": value},
                    {
                        "is_preferred": channel == ContactPoint.Channel.SMS,
                        "consent_given": consent,
                        "consent_recorded_at": registered_at if consent else None,
                        "consent_recorded_by": creator if consent else None,
                        "opted_out_at": registered_at + timedelta(days=9) if opted_out else None,
                    },
                )
            patients.append(patient)
        demo.cohorts[cohort_key] = patients


def _describe(
    demo: Demo, cohort: CohortSpec, person: PersonSpec, nhs_numbers: Iterator[str]
) -> tuple[dict[str, Any], list[tuple[str, bool, bool, bool]], datetime]:
    rng = demo.rng
    extra = person.extra
    housing = str(extra.get("housing_status") or weighted(rng, cohort.housing))
    sofa_no_address = rng.random() < 0.5
    no_fixed_abode = housing in _NO_FIXED_ABODE or (housing == "sofa_surfing" and sofa_no_address)
    postcode = rng.choice(cohort.postcodes)
    has_postcode = rng.random() < 0.85
    gp = weighted(rng, _GP_ODDS.get(housing, {"yes": 18, "no": 1, "unknown": 1}))
    practice = rng.choice(cohort.practices)
    ethnicity = weighted(rng, cohort.ethnicity)
    birth_year = rng.randint(*cohort.birth_years)
    birth_day = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
    age_known = rng.random()
    legal = rng.random() < 0.7 and bool(person.legal_first_name)
    surname = rng.choice(SURNAMES)
    gives_nhs_number = rng.random() < 0.25
    has_mobile = rng.random() < (0.45 if housing == "rough_sleeping" else 0.85)
    sms_consent = rng.random() < 0.85
    has_email = rng.random() < (0.1 if housing in ("rough_sleeping", "hostel") else 0.3)
    registered_days_ago = rng.randint(HISTORY_PADDING, 400)

    values: dict[str, Any] = {
        "legal_name": f"{person.legal_first_name} {surname}" if legal else "",
        "date_of_birth": birth_day if age_known < 0.45 else None,
        "year_of_birth": birth_year if age_known < 0.85 else None,
        "nhs_number": next(nhs_numbers) if gives_nhs_number else "",
        "sex": person.sex,
        "gender_identity": str(extra.get("gender_identity", "")),
        "has_cervix": extra.get("has_cervix"),
        "ethnicity": ethnicity,
        "housing_status": housing,
        "postcode": "" if no_fixed_abode or not has_postcode else postcode,
        "no_fixed_abode": no_fixed_abode,
        "gp_registration": gp,
        "gp_practice_name": practice if gp == "yes" else "",
        "safe_contact_notes": str(extra.get("safe_contact_notes", "")),
        "interpreter_language": str(extra.get("interpreter_language", "")),
        "access_needs": str(extra.get("access_needs", "")),
    }
    if "year_of_birth" in extra:
        values["date_of_birth"] = None
        values["year_of_birth"] = extra["year_of_birth"]
    wants_sms = bool(extra.get("sms", has_mobile))
    contacts = [
        (
            ContactPoint.Channel.SMS,
            wants_sms,
            bool(extra.get("sms_consent", sms_consent)) or bool(extra.get("opted_out")),
            bool(extra.get("opted_out")),
        ),
        (ContactPoint.Channel.EMAIL, has_email, True, False),
    ]
    registered_at = demo.at(demo.today - timedelta(days=registered_days_ago), time(11, 0))
    return values, contacts, registered_at
