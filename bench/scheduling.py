"""Scheduling benchmark: booking over HTTP, slot search and the day view, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outreach_bench \
        .venv/bin/python -m bench.scheduling [--generate] [--requests 2000] [--clients 4] \
            [--rounds 10]

Booking throughput is compared with a bare Django view that locks one row and inserts one
(bench/urls.py), served by the same gunicorn (2 workers) in the same run, so the ratio does not
depend on the machine; the two loads take turns, in alternating order, so neither is measured
on a faster stretch of the run than the other. Results go to bench/results/scheduling.json and
standard output.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("OUTREACH_READ_DOTENV", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.generate import BENCH_PASSWORD, BENCH_USER, generate  # noqa: E402
from clinics.models import Organisation, Patient, ServiceType  # noqa: E402
from outreach.models import Booking, Message, OutreachSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def _free_port() -> int:
    """A port nobody is listening on now, so runs on a shared machine do not collide."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


PORT = _free_port()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
    }


class Browser:
    """A signed-in HTTP client with a kept-alive connection and the CSRF token."""

    def __init__(self) -> None:
        self.conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        self.cookies: dict[str, str] = {}
        self.request("GET", "/login/")
        self.request(
            "POST",
            "/login/",
            urlencode({"username": BENCH_USER, "password": BENCH_PASSWORD}),
            form=True,
        )
        if "sessionid" not in self.cookies:
            raise SystemExit("Could not sign in as the benchmark user.")

    def request(
        self, method: str, path: str, body: str | None = None, *, form: bool = False
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = f"http://{HOST}:{PORT}/"
            headers["Content-Type"] = (
                "application/x-www-form-urlencoded" if form else "application/json"
            )
            if form:
                body = (body + "&" if body else "") + urlencode(
                    {"csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
                )
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                match = re.match(r"([^=]+)=([^;]*)", value)
                if match:
                    self.cookies[match.group(1)] = match.group(2)
        return response.status, data


def _load(
    make_request: Any, first: int, total: int, browsers: list["Browser"]
) -> tuple[list[float], float, int]:
    """Send requests `first` to `first + total - 1` from one thread per browser at once.

    Returns each request's time, the time for them all, and how many were answered >= 300.
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(first, first + total))
    start_gate = threading.Barrier(len(browsers) + 1)

    def worker(browser: Browser) -> None:
        nonlocal errors
        start_gate.wait()
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            began = time.perf_counter()
            status_code, _ = make_request(browser, n)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if status_code >= 300:
                    errors += 1

    threads = [threading.Thread(target=worker, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, errors


def run_load(make_request: Any, total: int, clients: int) -> dict[str, Any]:
    """Send `total` requests from `clients` threads at once; time each one."""
    return summary(*_load(make_request, 0, total, [Browser() for _ in range(clients)]))


def _task_cpu_seconds(pid: str) -> float:
    """CPU time so far of every thread of process `pid` (the scheduler's count, in ns)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
            total += int(stat.read().split()[0])
    return total / 1e9


def cpu_seconds(server_group: int) -> dict[str, float] | None:
    """CPU time so far of gunicorn (its process group), of PostgreSQL's processes, and of
    the whole machine (/proc/stat), on Linux; None elsewhere.

    Throughput moves with the machine's speed; the CPU a request costs each part moves
    less, and says where a booking's time goes.
    """
    if not os.path.exists("/proc/stat"):
        return None
    found = {"gunicorn_workers": 0.0, "postgresql": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                name = comm.read().strip()
            if os.getpgid(int(pid)) == server_group:
                found["gunicorn_workers"] += _task_cpu_seconds(pid)
            elif name == "postgres":
                found["postgresql"] += _task_cpu_seconds(pid)
        except (OSError, ValueError):  # gone since listed
            continue
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:9]]
    # Busy is everything but idle and waiting for I/O.
    found["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return found


def run_in_turn(
    loads: dict[str, Any],
    total: int,
    clients: int,
    rounds: int,
    cpu: Callable[[], dict[str, float] | None] = lambda: None,
) -> dict[str, dict[str, Any]]:
    """Send `total` requests of each load in `rounds` turns, the order reversed every round.

    The machine's speed drifts (by a factor of two within an hour on a shared one), so loads
    measured one after the other are measured on different machines. In turns of A B, B A, A B
    ... each load sees the same share of every stretch of the run, and the ratio of their
    throughputs (requests over the time spent on them) stays fair. With `cpu` (from
    `cpu_seconds`), each load's CPU per request is counted over its turns as well.
    """
    names = list(loads)
    took: dict[str, list[float]] = {name: [] for name in names}
    elapsed = dict.fromkeys(names, 0.0)
    errors = dict.fromkeys(names, 0)
    spent: dict[str, dict[str, float]] = {name: {} for name in names}
    # Signed in once: the sign-in page limits how often one address may try.
    browsers = [Browser() for _ in range(clients)]
    per_round = [total // rounds + (1 if n < total % rounds else 0) for n in range(rounds)]
    first = 0
    for n, count in enumerate(per_round):
        for name in names if n % 2 == 0 else reversed(names):
            before = cpu()
            latencies, seconds, failed = _load(loads[name], first, count, browsers)
            after = cpu()
            if before is not None and after is not None:
                for part, used in after.items():
                    spent[name][part] = spent[name].get(part, 0.0) + used - before[part]
            took[name] += latencies
            elapsed[name] += seconds
            errors[name] += failed
        first += count
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        results[name] = {**summary(took[name], elapsed[name], errors[name]), "rounds": rounds}
        if spent[name]:
            results[name]["cpu_ms_per_request"] = {
                part: round(used * 1000 / len(took[name]), 2) for part, used in spent[name].items()
            }
    return results


def start_server() -> subprocess.Popen:
    call_command("collectstatic", interactive=False, verbosity=0)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DEBUG": "false"}
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "bench.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection(HOST, PORT, timeout=1)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def day_view_queries(client: Client, session: OutreachSession) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/sessions/{session.pk}/day/")
    assert response.status_code == 200, response.content
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="regenerate the data first")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="turns the booking and bare loads take, in alternating order",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    results: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    if args.generate:
        results["data"] = generate(sessions=1000, patients=50000, bookings=200000)
    results["dataset"] = {
        "sessions": OutreachSession.objects.count(),
        "patients": Patient.objects.count(),
        "bookings": Booking.objects.count(),
    }
    service = ServiceType.objects.get(code="bench-health-check")
    home = Organisation.objects.get(name="Bench organisation 0")
    now = timezone.now()
    future = list(
        OutreachSession.objects.filter(starts_at__gt=now + timedelta(hours=1)).values_list(
            "pk", flat=True
        )
    )
    fresh = Patient.objects.bulk_create(
        Patient(organisation=home, preferred_name=f"Walk-up {n}", year_of_birth=1980)
        for n in range(args.requests + 100)
    )
    fresh_ids = [p.pk for p in fresh]
    rng = random.Random(11)
    targets = [rng.choice(future) for _ in range(args.requests + 100)]

    server = start_server()
    try:

        def baseline(browser: Browser, n: int) -> tuple[int, bytes]:
            return browser.request(
                "POST", "/bench/baseline/", urlencode({"session": targets[n]}), form=True
            )

        def book(browser: Browser, n: int) -> tuple[int, bytes]:
            body = json.dumps(
                {"patient": fresh_ids[n], "session": targets[n], "service": service.pk}
            )
            return browser.request("POST", "/api/v1/bookings/", body)

        run_load(baseline, 100, args.clients)  # warm up both workers and the caches
        measured = run_in_turn(
            {"bare": baseline, "booking": book},
            args.requests,
            args.clients,
            args.rounds,
            cpu=lambda: cpu_seconds(server.pid),
        )
        booking, bare = measured["booking"], measured["bare"]
        results["booking_http"] = {
            "booking": booking,
            "bare_lock_and_insert_view": bare,
            "throughput_ratio": round(booking["throughput_per_s"] / bare["throughput_per_s"], 2),
            "target_ratio": 0.5,
            "clients": args.clients,
            "gunicorn_workers": 2,
        }
        if "cpu_ms_per_request" in booking and "cpu_ms_per_request" in bare:
            # The bare view's CPU per request over the booking's, for the whole machine: what
            # the throughput ratio comes to when the machine is busy, less moved by its drift.
            results["booking_http"]["machine_cpu_ratio"] = round(
                bare["cpu_ms_per_request"]["machine"] / booking["cpu_ms_per_request"]["machine"], 2
            )

        start = timezone.now()
        end = start + timedelta(days=30)
        browser = Browser()

        def searches(begin: Any, count: int) -> tuple[dict[str, Any], dict[str, Any]]:
            """`count` searches from `begin` over 30 days, each followed by a bare request."""
            query = urlencode(
                {
                    "service": service.pk,
                    "from": begin.isoformat(),
                    "to": (begin + timedelta(days=30)).isoformat(),
                }
            )
            search_times, bare_times = [], []
            for _ in range(count):
                began = time.perf_counter()
                status_code, _ = browser.request("GET", f"/api/v1/slots/?{query}")
                search_times.append(time.perf_counter() - began)
                assert status_code == 200
                began = time.perf_counter()
                browser.request("GET", "/healthz/")
                bare_times.append(time.perf_counter() - began)
            return (
                summary(search_times, sum(search_times), 0),
                summary(bare_times, sum(bare_times), 0),
            )

        search, bare_get = searches(start, args.searches)
        # From now, the search's work depends on the time of day the benchmark runs at: in the
        # afternoon the day's clinics are closing and hold few free slots, so a second window
        # is read. The same search from fixed London times tomorrow compares runs made at
        # different hours.
        tomorrow = timezone.localtime(start).date() + timedelta(days=1)
        by_start = {}
        for hour, minute in ((8, 0), (11, 0), (14, 0), (16, 30)):
            begin = timezone.make_aware(
                datetime.combine(tomorrow, datetime.min.time()).replace(hour=hour, minute=minute)
            )
            found, _ = searches(begin, max(1, args.searches // 3))
            by_start[f"{hour:02d}:{minute:02d}"] = {
                key: found[key] for key in ("median_ms", "p95_ms")
            }
        results["slot_search_http"] = {
            "search": search,
            "bare_view": bare_get,
            "median_ratio_to_bare": round(search["median_ms"] / bare_get["median_ms"], 2),
            "target_median_ms": 20,
            "sessions_in_window": OutreachSession.objects.filter(
                starts_at__gte=start, starts_at__lt=end
            ).count(),
            "searched_from": timezone.localtime(start).strftime("%H:%M London time"),
            "from_tomorrow_at_london_time": by_start,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    client = Client()
    # force_login: django-axes's backend wants the request a real sign-in has.
    client.force_login(get_user_model().objects.get(username=BENCH_USER))
    busiest = OutreachSession.objects.filter(organisation=home).order_by("-starts_at").first()
    empty = OutreachSession.objects.create(
        organisation=home,
        name="Bench empty clinic",
        venue=busiest.venue,
        starts_at=busiest.starts_at + timedelta(days=400),
        ends_at=busiest.ends_at + timedelta(days=400),
    )
    results["day_view_queries"] = {
        "bookings_0": day_view_queries(client, empty),
        f"bookings_{busiest.bookings.count()}": day_view_queries(client, busiest),
        "target_max": 10,
    }
    empty.delete()
    # The bookings wrote reminder rows to the outbox: they go first (messages protect patients).
    Message.objects.filter(patient_id__in=fresh_ids).delete()
    Booking.objects.filter(patient_id__in=fresh_ids).delete()
    Patient.objects.filter(pk__in=fresh_ids).delete()

    out = ROOT / "bench" / "results" / "scheduling.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"database: {settings.DATABASES['default']['NAME']}; written to {out}")


if __name__ == "__main__":
    main()
