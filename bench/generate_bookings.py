"""Build a PostgreSQL database of resources and bookings for benchmarks.

    .venv/bin/python bench/generate_bookings.py [--resources 1000] [--bookings 1000000]
        [--url postgres://postgres@127.0.0.1:5432/bookdesk_bench] [--keep]

As a library: ``generate(url, resources=1000, bookings=1_000_000)`` (other benchmarks reuse
it). The database is dropped and re-created, migrated with the app's own migrations, then
filled by INSERT ... SELECT over generate_series, all inside PostgreSQL. The no-overlap
exclusion constraint is dropped during the load and added back afterwards (building the
GiST index once is much faster than maintaining it row by row); adding it back also proves
the generated data obeys the rule.

Shape of the data: bookings of one resource start every ``SLOT_HOURS`` hours and last 1-3
hours, so they never overlap; the series is centred on now (half past, half future); about
85% approved, 5% pending, the rest rejected or cancelled. Users: one per 10 resources,
requesters, without a usable password.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bookdesk_bench"
SLOT_HOURS = 8


def _admin_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl()


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    name = _dbname(url)
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "BOOKDESK_ENV": "development"}
    env.pop("TEST_DATABASE_NAME", None)
    subprocess.run(
        [sys.executable, "-m", "bookdesk", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )


FILL_SQL = """
INSERT INTO accounts_user (password, last_login, is_superuser, email, full_name, role,
                           is_active, date_joined)
SELECT '!', NULL, false, 'bench' || g || '@example.com', 'Bench User ' || g, 'requester',
       true, now()
FROM generate_series(1, %(users)s) AS g;

INSERT INTO resources_resource (name, kind, location, capacity, timezone, description,
    is_active, min_duration, max_duration, min_notice, max_advance, requires_approval,
    pending_holds_slot, created_at, updated_at)
SELECT 'Resource ' || lpad(g::text, 5, '0'),
       (ARRAY['room', 'hall', 'vehicle', 'equipment'])[1 + g %% 4],
       'Building ' || (1 + g %% 20), 2 + (g * 7) %% 200,
       (ARRAY['Europe/Berlin', 'America/New_York', 'UTC'])[1 + g %% 3], '',
       true, interval '15 minutes', interval '12 hours', interval '0', interval '400 days',
       g %% 3 = 0, false, now(), now()
FROM generate_series(1, %(resources)s) AS g;
"""

BOOKINGS_SQL = """
WITH r AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn FROM resources_resource
), u AS (
    SELECT min(id) AS first_id, count(*) AS n FROM accounts_user
)
INSERT INTO bookings_booking (resource_id, requester_id, start, "end", title, purpose,
    attendees, status, holds_slot, series_id, decided_by_id, decided_at, decision_reason,
    created_at, updated_at)
SELECT r.id,
       u.first_id + (k * 31 + r.rn) %% u.n,
       s.start,
       s.start + interval '1 hour' * (1 + (k + r.rn) %% 3),
       'Booking ' || k,
       '',
       1,
       st.status,
       st.status IN ('approved'),
       NULL, NULL, NULL, '',
       s.start - interval '14 days', s.start - interval '14 days'
FROM r CROSS JOIN u
CROSS JOIN generate_series(0, %(per_resource)s - 1) AS k
CROSS JOIN LATERAL (
    SELECT date_trunc('hour', now())
           - interval '1 hour' * (%(slot)s * (%(per_resource)s / 2))
           + interval '1 hour' * (%(slot)s * k + (r.rn %% %(slot)s)) AS start
) AS s
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN (k * 7 + r.rn) %% 20 = 0 THEN 'pending'
        WHEN (k * 7 + r.rn) %% 20 = 1 THEN 'rejected'
        WHEN (k * 7 + r.rn) %% 20 = 2 THEN 'cancelled'
        ELSE 'approved' END AS status
) AS st
WHERE r.rn < %(resources)s;
"""


def generate(
    url: str = DEFAULT_URL,
    *,
    resources: int = 1000,
    bookings: int = 1_000_000,
    users: int | None = None,
    verbose: bool = True,
) -> dict:
    """Re-create ``url`` with ``resources`` resources and ``bookings`` bookings; returns timings."""
    per_resource = max(1, bookings // resources)
    users = users or max(1, resources // 10)
    timings = {}
    t0 = time.perf_counter()
    recreate_database(url)
    migrate(url)
    timings["migrate_s"] = time.perf_counter() - t0
    with psycopg.connect(url, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute("ALTER TABLE bookings_booking DROP CONSTRAINT bookings_booking_no_overlap")
        with conn.transaction():
            for statement in FILL_SQL.split(";"):
                if statement.strip():
                    conn.execute(statement, {"users": users, "resources": resources})
            conn.execute(
                BOOKINGS_SQL,
                {"per_resource": per_resource, "slot": SLOT_HOURS, "resources": resources},
            )
        timings["insert_s"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(
            """ALTER TABLE bookings_booking ADD CONSTRAINT bookings_booking_no_overlap
               EXCLUDE USING gist (resource_id WITH =, tstzrange("start", "end", '[)') WITH &&)
               WHERE (holds_slot)"""
        )
        timings["constraint_s"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["analyze_s"] = time.perf_counter() - t
        count = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
    timings["total_s"] = time.perf_counter() - t0
    timings["bookings"] = count
    timings["resources"] = resources
    if verbose:
        print(
            f"{url}: {resources} resources, {count} bookings in {timings['total_s']:.1f} s "
            f"(insert {timings['insert_s']:.1f} s, constraint {timings['constraint_s']:.1f} s)"
        )
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=None)
    args = parser.parse_args(argv)
    generate(args.url, resources=args.resources, bookings=args.bookings, users=args.users)


if __name__ == "__main__":
    main()
