"""Referrals benchmark: the "overdue for my organisation" worklist over 500,000 referrals.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outreach_bench_referrals \
        .venv/bin/python -m bench.referrals [--generate] [--referrals 500000] [--requests 400]

Generates (with --generate, or when the database is empty) 500,000 referrals across 20
organisations with one INSERT ... SELECT over generate_series, then measures through the Django
test client, in-process, signed in as a coordinator of one organisation:

- GET /api/v1/referrals/worklists/overdue/ at page sizes 10, 50 and 200 (median, p95, queries),
- GET /api/v1/referrals/worklists/ (the counts),
- a bare Django view behind the same session authentication, in the same run, so the ratio of
  the worklist to it does not depend on the machine.

Results go to bench/results/referrals.json and standard output.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("OUTREACH_READ_DOTENV", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.models import Organisation, Patient, StaffMember  # noqa: E402
from referrals.models import Destination, Referral  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "referrals.json"
ORGANISATIONS = 20
PATIENTS_PER_ORGANISATION = 2000
PAGE_SIZES = (10, 50, 200)
BENCH_USER = "bench-referrals-coordinator"


@login_required
def bare(request: HttpRequest) -> JsonResponse:
    """The least any signed-in API request costs: the session, the user, a JSON answer."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare/", bare), path("", include("config.urls"))]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def generate(total: int) -> dict[str, int]:
    """Organisations, patients, destinations, referrers and `total` referrals, in bulk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE referrals_referralchase, referrals_historicalreferral, referrals_referral, "
            "clinics_patient, clinics_staffmember, referrals_destination CASCADE"
        )
    user_model = get_user_model()
    organisations = []
    for number in range(ORGANISATIONS):
        organisation, _ = Organisation.objects.get_or_create(
            name=f"Bench organisation {number:02d}", defaults={"kind": "nhs_trust"}
        )
        organisations.append(organisation)
    referrers = []
    for organisation in organisations:
        user, _ = user_model.objects.get_or_create(
            username=f"bench-referrer-{organisation.pk}", defaults={"email": "r@example.nhs.uk"}
        )
        StaffMember.objects.get_or_create(
            user=user, defaults={"organisation": organisation, "role": "nurse"}
        )
        referrers.append(user)
    coordinator, _ = user_model.objects.get_or_create(
        username=BENCH_USER, defaults={"email": "c@example.nhs.uk"}
    )
    StaffMember.objects.get_or_create(
        user=coordinator, defaults={"organisation": organisations[0], "role": "coordinator"}
    )
    coordinator.groups.add(Group.objects.get(name="coordinator"))
    Patient.objects.bulk_create(
        [
            Patient(organisation=organisation, preferred_name=f"Person {n}")
            for organisation in organisations
            for n in range(PATIENTS_PER_ORGANISATION)
        ],
        batch_size=5000,
    )
    Destination.objects.bulk_create(
        [
            Destination(
                name=f"Bench destination {n}",
                category=Destination.Category.values[n % len(Destination.Category.values)],
                route="nhsmail",
                response_target_days=7 + n % 21,
            )
            for n in range(60)
        ]
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        # One statement: each row picks its organisation, a patient of that organisation, a
        # destination and a status by arithmetic on the series number (the status and date
        # from g / organisations, so every organisation gets the same mix). A fifth of the
        # referrals are still waiting for an answer, and most of those are past due.
        cursor.execute(
            """
            WITH orgs AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM clinics_organisation
                WHERE name LIKE 'Bench organisation %%'
            ),
            people AS (
                SELECT id, organisation_id,
                       row_number() OVER (PARTITION BY organisation_id ORDER BY id) - 1 AS n
                FROM clinics_patient
            ),
            referrers AS (
                SELECT u.id, s.organisation_id FROM auth_user u
                JOIN clinics_staffmember s ON s.user_id = u.id
                WHERE u.username LIKE 'bench-referrer-%%'
            ),
            dests AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                      FROM referrals_destination),
            series AS (
                SELECT g,
                       (ARRAY['sent','sent','sent','sent','accepted','booked','attended',
                              'closed','closed','closed','closed','closed','rejected',
                              'withdrawn','lost_to_follow_up','draft','closed','closed',
                              'closed','closed'])[1 + ((g / %(orgs)s) * 7) %% 20]
                           AS status,
                       %(now)s::timestamptz - (((g / %(orgs)s) %% 400) || ' days')::interval
                           AS sent_at
                FROM generate_series(0, %(total)s - 1) AS g
            )
            INSERT INTO referrals_referral (
                organisation_id, patient_id, destination_id, referrer_id, reason, priority,
                status, consent_to_share, consent_method, consent_recorded_at, due_date,
                sent_at, responded_at, rejection_reason, outcome_notes, created_at, updated_at
            )
            SELECT o.id, p.id, d.id, r.id, 'Benchmark referral',
                   (ARRAY['routine','routine','urgent','two_week_wait'])[1 + s.g %% 4],
                   s.status, true, 'verbal', s.sent_at,
                   (s.sent_at + interval '14 days')::date,
                   CASE WHEN s.status = 'draft' THEN NULL ELSE s.sent_at END,
                   CASE WHEN s.status IN ('draft', 'sent') THEN NULL
                        ELSE s.sent_at + interval '3 days' END,
                   CASE WHEN s.status = 'rejected' THEN 'no_capacity' ELSE '' END,
                   '', s.sent_at, s.sent_at
            FROM series s
            JOIN orgs o ON o.n = s.g %% %(orgs)s
            JOIN people p ON p.organisation_id = o.id AND p.n = (s.g / %(orgs)s) %% %(people)s
            JOIN dests d ON d.n = s.g %% 60
            JOIN referrers r ON r.organisation_id = o.id
            """,
            {
                "now": now,
                "total": total,
                "orgs": ORGANISATIONS,
                "people": PATIENTS_PER_ORGANISATION,
            },
        )
        cursor.execute("ANALYZE")
    return {
        "organisations": ORGANISATIONS,
        "patients": Patient.objects.count(),
        "referrals": Referral.objects.count(),
    }


def measure(client: Client, url: str, requests: int) -> dict[str, Any]:
    for _ in range(20):
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {
        "requests": requests,
        "median_ms": round(statistics.median(timings) * 1000, 2),
        "p95_ms": round(percentile(timings, 0.95) * 1000, 2),
        "queries": len(queries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="Rebuild the data set.")
    parser.add_argument("--referrals", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    if args.generate or not Referral.objects.exists():
        started = time.perf_counter()
        dataset = generate(args.referrals)
        dataset["generate_seconds"] = round(time.perf_counter() - started, 1)
    else:
        dataset = {
            "organisations": Organisation.objects.filter(name__startswith="Bench").count(),
            "patients": Patient.objects.count(),
            "referrals": Referral.objects.count(),
        }
    user = get_user_model().objects.get(username=BENCH_USER)
    organisation = user.staff.organisation
    today = timezone.localdate()
    dataset["overdue_in_my_organisation"] = (
        Referral.objects.filter(organisation=organisation).overdue(today).count()
    )
    client = Client()
    client.force_login(user)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "postgresql": connection.cursor().connection.info.server_version,
        "dataset": dataset,
    }
    with override_settings(ROOT_URLCONF="bench.referrals", DEBUG=False):
        results["bare_view"] = measure(client, "/bench/bare/", args.requests)
        results["overdue_worklist"] = {
            str(size): measure(
                client, f"/api/v1/referrals/worklists/overdue/?page_size={size}", args.requests
            )
            for size in PAGE_SIZES
        }
        results["worklist_counts"] = measure(client, "/api/v1/referrals/worklists/", 100)
    bare_median = results["bare_view"]["median_ms"]
    for row in results["overdue_worklist"].values():
        row["ratio_to_bare_median"] = round(row["median_ms"] / bare_median, 1)
    queries = {row["queries"] for row in results["overdue_worklist"].values()}
    results["checks"] = {
        "p95_at_most_50_ms": all(
            row["p95_ms"] <= 50 for row in results["overdue_worklist"].values()
        ),
        "queries_constant_across_page_sizes": len(queries) == 1,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if all(results["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
