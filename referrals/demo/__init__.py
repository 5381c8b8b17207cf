"""Demo data for `manage.py load_demo`: the programmes in the brief, with invented people.

The loader builds on all three apps, so unlike the rest of clinics it imports outreach and
referrals: it is a composition root that happens to live where the command lives.

Running it again on the same day writes nothing: every row is found by a natural key
(a name, a username, a registration, a code, an idempotency key) and saved only when it is
missing or differs, and every random choice comes from one seeded generator in a fixed order.
"""

import random
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from clinics.models import Organisation, Patient, StaffMember
from clinics.roles import ensure_role_groups
from outreach.models import (
    Booking,
    Message,
    OutreachSession,
    SessionSeries,
    VisitOutcome,
    WaitlistEntry,
)
from referrals.demo.bookings import build_bookings
from referrals.demo.messages import Outbox, build_messages
from referrals.demo.people import build_people
from referrals.demo.programmes import DEMO_LOGINS, DEMO_PASSWORD, SEED, SUPERUSER
from referrals.demo.records import Demo
from referrals.demo.reference import build_reference
from referrals.demo.referrals import build_referrals
from referrals.demo.sessions import build_sessions
from referrals.demo.waitlist import build_waitlist
from referrals.models import Destination, Referral, ReferralChase

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "SUPERUSER", "SummaryLine", "load_demo"]


@dataclass(frozen=True)
class SummaryLine:
    label: str
    total: int
    added: int


def _summary_models() -> list[tuple[str, type[models.Model]]]:
    return [
        ("organisations", Organisation),
        ("staff members", StaffMember),
        ("users", get_user_model()),
        ("patients", Patient),
        ("session series", SessionSeries),
        ("sessions", OutreachSession),
        ("bookings", Booking),
        ("visit outcomes", VisitOutcome),
        ("waiting list entries", WaitlistEntry),
        ("destinations", Destination),
        ("referrals", Referral),
        ("referral chases", ReferralChase),
        ("messages", Message),
    ]


def load_demo(*, now: datetime | None = None) -> list[SummaryLine]:
    """Load (or top up) the demo data in one transaction; return counts of what is there."""
    now = now or timezone.now()
    # A seeded generator, not a secure one: the same seed must give the same demo every run.
    rng = random.Random(SEED)  # noqa: S311 - a repeatable demo  # nosec B311
    demo = Demo(today=timezone.localdate(now), now=now, rng=rng)
    before = {label: model.objects.count() for label, model in _summary_models()}
    with transaction.atomic():
        # The role groups are normally made after migrate; make sure before adding people.
        ensure_role_groups()
        build_reference(demo)
        build_people(demo)
        build_sessions(demo)
        build_bookings(demo)
        build_waitlist(demo)
        outbox = Outbox(demo)
        build_referrals(demo, outbox)
        build_messages(demo, outbox)
        outbox.write()
    return [
        SummaryLine(label, total, total - before[label])
        for label, model in _summary_models()
        for total in [model.objects.count()]
    ]
