"""A few people on the waiting list, hoping a cancellation frees a slot."""

from datetime import date, time, timedelta

from outreach.models import WaitlistEntry
from referrals.demo.records import Demo, upsert


def build_waitlist(demo: Demo) -> None:
    """Put a few people on the waiting list, one of them already offered a slot."""
    wanted = [
        ("peterborough", "Leanne", "cervical-screening", "millfield_womens_centre", "waiting"),
        ("peterborough", "Kev", "eye-test", None, "offered"),
        ("wigan", "Dean", "nhs-health-check", "scholes_food_bank", "waiting"),
        ("wakefield", "Emma", "benefits-advice", "lupset_hub", "expired"),
    ]
    notes = {
        "waiting": "Can only come after 2pm; text first.",
        "offered": "Offered the next slot a cancellation frees; waiting for a reply.",
        "expired": "Window passed without a free slot; offered the hospital hub instead.",
    }
    for cohort, name, service, venue, status in wanted:
        patient = next((p for p in demo.cohorts[cohort] if p.preferred_name == name), None)
        if patient is None:
            continue
        window: tuple[date, date] = (
            (demo.today - timedelta(days=20), demo.today - timedelta(days=3))
            if status == "expired"
            else (demo.today, demo.today + timedelta(days=42))
        )
        upsert(
            WaitlistEntry,
            {
                "patient": patient,
                "service_type": demo.services[service],
                "venue": demo.venues[venue] if venue else None,
            },
            {
                "organisation": patient.organisation,
                "status": status,
                "not_before": window[0],
                "not_after": window[1],
                "notes": notes[status],
            },
            create_only={
                "offered_at": demo.at(demo.today, time(8, 30)) if status == "offered" else None
            },
        )
