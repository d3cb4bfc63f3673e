"""Shared set-up for the export benchmarks: a PostgreSQL database with N bookings and the
app under gunicorn, measured from outside (peak RSS of the worker from /proc)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bd_bench_exports"
RESOURCES = 50


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def psql_args(url: str) -> list[str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        "-d",
        parts.path.lstrip("/"),
    ]


def psql(url: str, sql: str) -> str:
    result = subprocess.run(
        [*psql_args(url), "-tA", "-c", sql], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def ensure_database(url: str, rows: int) -> None:
    """Create and migrate the database, then fill it to exactly ``rows`` bookings."""
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    exists = psql(admin, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if not exists:
        psql(admin, f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "BOOKDESK_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "bookdesk", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )
    have = int(psql(url, "SELECT count(*) FROM bookings_booking"))
    if have == rows:
        return
    print(f"filling {url} with {rows} bookings ...", flush=True)
    # One statement per table; bookings of one resource are an hour apart and never overlap.
    psql(
        url,
        f"""
        TRUNCATE bookings_booking CASCADE;
        INSERT INTO accounts_user (password, last_login, is_superuser, email, full_name, role,
                                   is_active, date_joined)
        SELECT '!', NULL, false, 'bench' || g || '@example.com', 'Bench User ' || g,
               'requester', true, now()
        FROM generate_series(1, 200) g
        ON CONFLICT DO NOTHING;
        INSERT INTO resources_resource (name, kind, location, capacity, timezone, description,
            is_active, min_duration, max_duration, min_notice, max_advance, requires_approval,
            pending_holds_slot, created_at, updated_at)
        SELECT 'Bench room ' || g, 'room', 'Building ' || (g % 5), 10,
               (ARRAY['Europe/Berlin','America/New_York','UTC','Asia/Tokyo'])[1 + g % 4], '',
               true, '15 minutes', '8 hours', '0', '365 days', false, false, now(), now()
        FROM generate_series(1, {RESOURCES}) g
        ON CONFLICT DO NOTHING;
        INSERT INTO bookings_booking (resource_id, requester_id, start, "end", title, purpose,
            attendees, status, holds_slot, created_at, updated_at, decision_reason)
        SELECT r.ids[1 + g % {RESOURCES}], u.ids[1 + g % 200],
               timestamptz '2026-01-01 00:00+00' + (g / {RESOURCES}) * interval '1 hour',
               timestamptz '2026-01-01 00:50+00' + (g / {RESOURCES}) * interval '1 hour',
               CASE WHEN g % 97 = 0 THEN '=cmd|'' /C calc''!A0' ELSE 'Booking number ' || g END,
               'Purpose text for booking ' || g || ', with a comma',
               1 + g % 12,
               (ARRAY['approved','pending','rejected','cancelled','expired'])[1 + g % 5],
               false, now(), now(), ''
        FROM generate_series(0, {rows - 1}) g,
             (SELECT array_agg(id ORDER BY id) ids FROM resources_resource
              WHERE name LIKE 'Bench room %') r,
             (SELECT array_agg(id ORDER BY id) ids FROM accounts_user
              WHERE email LIKE 'bench%@example.com') u;
        ANALYZE;
        """,
    )


def bench_admin_token(url: str) -> str:
    """An admin with an API token, made through the app's own code."""
    code = (
        "from bookdesk.accounts.models import User, Role\n"
        "from bookdesk.accounts.tokens import token_create\n"
        "u, _ = User.objects.get_or_create(email='bench-admin@example.com', "
        "defaults={'role': Role.ADMIN})\n"
        "print(token_create(user=u, name='bench').raw)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "BOOKDESK_ENV": "development", "LOG_LEVEL": "ERROR"}
    result = subprocess.run(
        [sys.executable, "-m", "bookdesk", "shell", "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with one worker (sync, as deployed for a single request at a time)."""

    def __init__(self, url: str):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BOOKDESK_ENV": "development",
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bookdesk.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "600",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return int(children.split()[0])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def fetch(server: Server, path: str, token: str) -> tuple[int, int, float]:
    """Download ``path``; returns (bytes, newline count, seconds)."""
    started = time.perf_counter()
    size = lines = 0
    with requests.get(
        server.base + path,
        headers={"Authorization": f"Bearer {token}"},
        stream=True,
        timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_content(1024 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines, time.perf_counter() - started


def machine() -> str:
    cpu = "unknown cpu"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = status_meminfo()
    load = Path("/proc/loadavg").read_text().split()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores (load average {load} at the end: other work shares "
        f"the machine, which slows both sides alike), {mem_kb // 1024 // 1024} GB RAM, "
        f"Python {platform.python_version()}, PostgreSQL "
        + psql(database_url(), "SHOW server_version")
    )


def status_meminfo() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0
