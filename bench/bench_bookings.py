"""Booking benchmarks against the data set of bench/generate_bookings.py.

    .venv/bin/python bench/generate_bookings.py     # once: 1,000 resources, 1,000,000 bookings
    .venv/bin/python bench/bench_bookings.py [--workers 3 --threads 8]

Measures, with the app under gunicorn on loopback (client on the same machine):
- GET /api/v1/availability for all resources over 7 days: SQL query count and CPU time in
  process, then latency p50/p95 over sequential HTTP requests at random windows;
- POST /api/v1/bookings from 32 concurrent clients, each into a free slot: closed loop
  (each client sends its next request as soon as the last one is answered) and paced
  (each client sends one request every --pace seconds).
Writes bench/results/bookings.md (the "## Notes" section at its end is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
RESULTS = PROJECT_DIR / "bench" / "results" / "bookings.md"


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, PostgreSQL {pg}"
    )


def setup_django(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ["BOOKDESK_ENV"] = "development"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")
    import django

    django.setup()


def in_process(token: str, start, end, slots) -> dict:
    """Query count and CPU milliseconds per request, without HTTP or other processes."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    params = {"start": start.isoformat(), "end": end.isoformat()}
    client.get("/api/v1/availability", params)  # warm caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/availability", params)
    assert response.status_code == 200, response.content[:500]
    cpu = []
    for _ in range(10):
        t = time.process_time()
        client.get("/api/v1/availability", params)
        cpu.append((time.process_time() - t) * 1000)
    create_cpu, create_queries = [], 0
    for rid, slot in slots:
        body = {
            "resource": rid,
            "start": slot.isoformat(),
            "end": (slot + timedelta(hours=1)).isoformat(),
            "title": "Bench",
        }
        with CaptureQueriesContext(connection) as created:
            t = time.process_time()
            r = client.post("/api/v1/bookings", json.dumps(body), content_type="application/json")
            create_cpu.append((time.process_time() - t) * 1000)
        assert r.status_code == 201, r.content[:300]
        create_queries = len(created.captured_queries)
    return {
        "queries": len(ctx.captured_queries),
        "resources": len(response.json()["resources"]),
        "bytes": len(response.content),
        "avail_cpu": statistics.median(cpu),
        "create_cpu": statistics.median(create_cpu),
        "create_queries": create_queries,
    }


def free_slots(now, count):
    """(resource, start) pairs that are free: generated bookings of a resource are 8 h
    apart and last at most 3 h, so 4 h after one starts there is a free hour."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT resource_id, start FROM (
                   SELECT resource_id, start,
                          row_number() OVER (PARTITION BY resource_id ORDER BY start) AS n
                   FROM bookings_booking WHERE start > %s) AS t
               WHERE n <= 3""",
            [now + timedelta(days=2)],
        )
        rows = cursor.fetchall()
    random.Random(11).shuffle(rows)
    return [(rid, start + timedelta(hours=4)) for rid, start in rows[:count]]


def create_run(server_url, tokens, slots, clients, pace=None):
    import requests

    barrier = threading.Barrier(clients)

    def client(index):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens[index % len(tokens)]}"
        session.get(f"{server_url}/healthz")
        barrier.wait()
        out = []
        next_at = time.perf_counter() + random.random() * (pace or 0)
        for rid, start in slots[index::clients]:
            if pace:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += pace
            body = {
                "resource": rid,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                "title": "Bench",
            }
            t = time.perf_counter()
            r = session.post(f"{server_url}/api/v1/bookings", json=body)
            out.append(((time.perf_counter() - t) * 1000, r.status_code))
        return out

    t_all = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [x for part in pool.map(client, range(clients)) for x in part]
    wall = time.perf_counter() - t_all
    lat = [ms for ms, _ in results]
    codes: dict[int, int] = {}
    for _, code in results:
        codes[code] = codes.get(code, 0) + 1
    return {
        "p50": statistics.median(lat),
        "p95": pct(lat, 95),
        "max": max(lat),
        "rate": len(results) / wall,
        "codes": codes,
        "n": len(results),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--availability-requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--creates-per-client", type=int, default=15)
    parser.add_argument(
        "--pace", type=float, default=1.0, help="seconds between a client's requests"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update the results file")
    args = parser.parse_args(argv)
    from bench.generate_bookings import DEFAULT_URL

    setup_django(args.url or DEFAULT_URL)
    import requests
    from django.utils import timezone
    from tests.conftest import start_app_server, stop_app_server

    from bookdesk.accounts.models import User
    from bookdesk.accounts.tokens import token_create
    from bookdesk.bookings.models import Booking
    from bookdesk.resources.models import Resource

    load_before = os.getloadavg()
    n_resources, n_bookings = Resource.objects.count(), Booking.objects.count()
    users = list(User.objects.order_by("id")[: args.clients])
    tokens = [token_create(user=u, name="bench").raw for u in users]
    now = timezone.now()
    per_run = args.clients * args.creates_per_client
    slots = free_slots(now, 2 * per_run + 20)
    try:
        facts = in_process(tokens[0], now, now + timedelta(days=7), slots[:20])
        print(f"in process: {facts}")
        with tempfile.TemporaryDirectory() as tmp:
            server = start_app_server(
                Path(tmp),
                workers=args.workers,
                threads=args.threads,
                extra_env={"LOG_LEVEL": "WARNING"},
            )
            try:
                session = requests.Session()
                session.headers["Authorization"] = f"Bearer {tokens[0]}"
                rnd = random.Random(7)
                times = []
                for i in range(args.availability_requests + 5):
                    start = now + timedelta(hours=rnd.randint(-24 * 60, 24 * 60))
                    params = {
                        "start": start.isoformat(),
                        "end": (start + timedelta(days=7)).isoformat(),
                    }
                    t = time.perf_counter()
                    response = session.get(f"{server.url}/api/v1/availability", params=params)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert response.status_code == 200, response.text[:300]
                    if i >= 5:  # the first requests warm the workers
                        times.append(elapsed)
                avail = {"p50": statistics.median(times), "p95": pct(times, 95), "max": max(times)}
                print(f"availability over HTTP: {avail}")
                closed = create_run(server.url, tokens, slots[20 : 20 + per_run], args.clients)
                print(f"create, closed loop: {closed}")
                paced = create_run(
                    server.url, tokens, slots[20 + per_run :], args.clients, pace=args.pace
                )
                print(f"create, paced: {paced}")
            finally:
                stop_app_server(server)
    finally:
        # Leave the data set as generated for the next run.
        Booking.objects.filter(title="Bench", created_at__gte=now).delete()
    load_after = os.getloadavg()
    if not args.no_write:
        write_results(
            args,
            machine(),
            (load_before, load_after),
            n_resources,
            n_bookings,
            facts,
            avail,
            closed,
            paced,
        )


def write_results(
    args, machine_info, loads, n_resources, n_bookings, facts, avail, closed, paced
) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = " / ".join(f"{a[0]:.1f}" for a in loads)

    def codes(run):
        return ", ".join(f"{k}: {v}" for k, v in sorted(run["codes"].items()))

    rows = [
        ("availability, all resources, 7 days: SQL queries", f"{facts['queries']}", "constant"),
        (
            "availability: resources listed / body size",
            f"{facts['resources']} / {facts['bytes'] / 1024:.0f} KiB",
            "",
        ),
        ("availability: CPU time in process (median)", f"{facts['avail_cpu']:.0f} ms", ""),
        (
            f"availability over HTTP p50 / p95 / max ({args.availability_requests} sequential)",
            f"{avail['p50']:.0f} / {avail['p95']:.0f} / {avail['max']:.0f} ms",
            "p95 <= 150 ms",
        ),
        (
            "create: CPU time in process (median) / SQL queries",
            f"{facts['create_cpu']:.1f} ms / {facts['create_queries']}",
            "",
        ),
        (
            f"create, {args.clients} clients closed loop: p50 / p95 / max",
            f"{closed['p50']:.0f} / {closed['p95']:.0f} / {closed['max']:.0f} ms",
            "p95 <= 50 ms",
        ),
        (
            "create, closed loop: throughput / status codes",
            f"{closed['rate']:.0f} req/s / {codes(closed)}",
            "",
        ),
        (
            f"create, {args.clients} clients paced (1 request / {args.pace:g} s each): p50 / p95",
            f"{paced['p50']:.0f} / {paced['p95']:.0f} ms",
            "p95 <= 50 ms",
        ),
        (
            "create, paced: throughput / status codes",
            f"{paced['rate']:.0f} req/s / {codes(paced)}",
            "",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    text = (
        f"# Booking benchmarks\n\nRun {stamp} by `bench/bench_bookings.py` on {machine_info}.\n"
        f"Load average (1 min) before / after: {load}.\n"
        f"Data: `bench/generate_bookings.py`, {n_resources} resources and {n_bookings:,} "
        f"bookings in PostgreSQL. App: gunicorn, {args.workers} workers x {args.threads} "
        f"threads (gthread), on loopback; the clients run on the same machine.\n\n"
        f"| measure | result | target |\n|---|---|---|\n{table}\n"
    )
    notes = ""
    if RESULTS.exists() and "\n## Notes" in RESULTS.read_text():
        notes = "\n## Notes" + RESULTS.read_text().split("\n## Notes", 1)[1]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + notes)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
