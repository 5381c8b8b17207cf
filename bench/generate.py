"""Generate benchmark data on PostgreSQL: sessions, patients and bookings in bulk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outreach_bench \
        .venv/bin/python -m bench.generate --sessions 1000 --patients 50000 --bookings 200000

Bookings obey every constraint (one lane-time each, a patient never in two places), so the
exclusion constraints are exercised by the inserts themselves. Rows are bulk inserted without
history: the benchmark measures reads and new bookings, not the generator.
"""

import argparse
import os
import random
import time
from datetime import date, datetime, timedelta
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("OUTREACH_READ_DOTENV", "false")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from clinics.models import Organisation, Patient, ServiceType, StaffMember, Venue  # noqa: E402
from outreach.models import Booking, OutreachSession  # noqa: E402
from outreach.services import local_datetime  # noqa: E402

BENCH_USER = "bench-nurse"
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105
SESSION_HOURS = (9, 17)
SLOT_MINUTES = 10
LANES = 5
SESSIONS_PER_DAY = 10


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")


def _reset() -> None:
    with connection.cursor() as cursor:
        tables = [
            "outreach_booking",
            "outreach_historicalbooking",
            "outreach_outreachsession_services",
            "outreach_staffassignment",
            "outreach_outreachsession",
            "outreach_historicaloutreachsession",
            "clinics_patient",
            "clinics_historicalpatient",
            "clinics_contactpoint",
        ]
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY,"
            " session_id bigint NOT NULL, created_at timestamptz NOT NULL)"
        )
        cursor.execute("TRUNCATE bench_baseline")


def _reference_data(organisation_count: int) -> tuple[list[Organisation], ServiceType, Any]:
    organisations = [
        Organisation.objects.get_or_create(
            name=f"Bench organisation {n}", defaults={"kind": Organisation.Kind.NHS_TRUST}
        )[0]
        for n in range(organisation_count)
    ]
    service, _ = ServiceType.objects.get_or_create(
        code="bench-health-check",
        defaults={"name": "Bench health check", "default_duration_minutes": SLOT_MINUTES},
    )
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": True}
    )
    user.set_password(BENCH_PASSWORD)
    user.save()
    StaffMember.objects.get_or_create(
        user=user, defaults={"organisation": organisations[0], "role": StaffMember.Role.NURSE}
    )
    user.groups.add(Group.objects.get(name="nurse"))
    return organisations, service, user


def _venues(organisation: Organisation, count: int) -> list[Venue]:
    venues = []
    for n in range(count):
        venue, _ = Venue.objects.get_or_create(
            organisation=organisation,
            name=f"Bench venue {n}",
            defaults={"kind": Venue.Kind.COMMUNITY_CENTRE, "imd_decile": 1 + n % 10},
        )
        venues.append(venue)
    return venues


def generate(*, sessions: int, patients: int, bookings: int, seed: int = 7) -> dict[str, Any]:
    _require_postgres()
    rng = random.Random(seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    _reset()
    organisations, service, _user = _reference_data(20)
    home = organisations[0]
    venues = _venues(home, 30)

    # Sessions: SESSIONS_PER_DAY a day from yesterday on, all 09:00-17:00 London time.
    first_day = date.today() - timedelta(days=1)
    session_rows = []
    for n in range(sessions):
        day = first_day + timedelta(days=n // SESSIONS_PER_DAY)
        session_rows.append(
            OutreachSession(
                organisation=home,
                name=f"Bench clinic {n}",
                venue=venues[n % len(venues)],
                starts_at=local_datetime(day, datetime.min.time().replace(hour=SESSION_HOURS[0])),
                ends_at=local_datetime(day, datetime.min.time().replace(hour=SESSION_HOURS[1])),
                booking_mode="appointments",
                slot_minutes=SLOT_MINUTES,
                lanes=LANES,
            )
        )
    created_sessions = OutreachSession.objects.bulk_create(session_rows, batch_size=1000)
    OutreachSession.services.through.objects.bulk_create(
        [
            OutreachSession.services.through(outreachsession_id=s.pk, servicetype_id=service.pk)
            for s in created_sessions
        ],
        batch_size=2000,
    )

    patient_rows = [
        Patient(
            organisation=organisations[n % len(organisations)] if n % 5 else home,
            preferred_name=f"Person {n}",
            year_of_birth=1940 + n % 60,
        )
        for n in range(patients)
    ]
    created_patients = Patient.objects.bulk_create(patient_rows, batch_size=5000)
    home_patients = [p.pk for p in created_patients if p.organisation_id == home.pk]

    # Bookings: per session, fill lane-times in order. Sessions on the same day run at the same
    # time, so each day draws its patients from a disjoint part of the pool.
    per_session = max(1, bookings // max(1, sessions))
    slots_per_lane = (SESSION_HOURS[1] - SESSION_HOURS[0]) * 60 // SLOT_MINUTES
    per_session = min(per_session, slots_per_lane * LANES)
    day_pool = SESSIONS_PER_DAY * per_session
    if day_pool > len(home_patients):
        raise SystemExit("Too few patients in the home organisation for that many bookings a day.")
    booking_rows = []
    for index, session in enumerate(created_sessions):
        day_index = index // SESSIONS_PER_DAY
        offset = (day_index * day_pool) % (len(home_patients) - day_pool + 1)
        pool_start = offset + (index % SESSIONS_PER_DAY) * per_session
        positions = rng.sample(range(slots_per_lane * LANES), per_session)
        for k, position in enumerate(positions):
            lane, slot = divmod(position, slots_per_lane)
            starts_at = session.starts_at + timedelta(minutes=slot * SLOT_MINUTES)
            booking_rows.append(
                Booking(
                    session_id=session.pk,
                    patient_id=home_patients[pool_start + k],
                    service_type_id=service.pk,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=SLOT_MINUTES),
                    lane=lane + 1,
                )
            )
        if len(booking_rows) >= 20000:
            with transaction.atomic():
                Booking.objects.bulk_create(booking_rows, batch_size=5000)
            booking_rows = []
    if booking_rows:
        Booking.objects.bulk_create(booking_rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "sessions": OutreachSession.objects.count(),
        "patients": Patient.objects.count(),
        "bookings": Booking.objects.count(),
        "seconds": round(time.perf_counter() - started, 1),
        "database": settings.DATABASES["default"]["NAME"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=50000)
    parser.add_argument("--bookings", type=int, default=200000)
    args = parser.parse_args()
    print(generate(sessions=args.sessions, patients=args.patients, bookings=args.bookings))


if __name__ == "__main__":
    main()
