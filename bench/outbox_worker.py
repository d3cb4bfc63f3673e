"""How fast the email outbox fills and drains.

Measures what queuing a booking email costs the web request that does it (render three
templates and insert one row), and how many messages per second `bookdesk worker --once`
delivers to a local SMTP server, with one worker and with two side by side.

    .venv/bin/python bench/outbox_worker.py [--messages 2000]
        [--database-url postgres://postgres@127.0.0.1:5432/bd_bench_outbox]
    .venv/bin/python bench/outbox_worker.py --database-url sqlite:///var/bd_bench_outbox.sqlite3

Writes bench/results/outbox.md (one section per database engine). The database named is
emptied of outbox rows first; use a scratch one.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench import results_file  # noqa: E402

RESULTS = PROJECT / "bench" / "results" / "outbox.md"
TITLE = "# Email outbox benchmark\n\nWritten by `bench/outbox_worker.py`.\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = results_file.cpu_model()
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def ensure_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def write_section(name: str, lines: list[str]) -> None:
    results_file.write_section(RESULTS, TITLE, name, machine(), lines)


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/bd_bench_outbox"
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("TEST_DATABASE_NAME", None)
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if args.database_url.startswith("postgres"):
        ensure_postgres_database(args.database_url)
    subprocess.run(
        [sys.executable, "-m", "bookdesk", "migrate", "--noinput", "-v0"], cwd=PROJECT, check=True
    )

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from bookdesk.accounts.models import User
    from bookdesk.bookings import mail as booking_mail
    from bookdesk.bookings.models import Booking
    from bookdesk.notifications.models import OutboxMessage
    from bookdesk.resources.models import Resource

    engine = connection.vendor
    OutboxMessage.objects.all().delete()
    requester, _ = User.objects.get_or_create(
        email="bench-requester@example.com", defaults={"full_name": "Bench Requester"}
    )
    approver, _ = User.objects.get_or_create(
        email="bench-approver@example.com", defaults={"full_name": "Bench Approver"}
    )
    group, _ = Group.objects.get_or_create(name="bench approvers")
    approver.groups.add(group)
    resource, _ = Resource.objects.get_or_create(
        name="Bench Hall", defaults={"timezone": "Europe/Berlin", "requires_approval": True}
    )
    resource.approver_groups.add(group)
    Booking.objects.filter(resource=resource).delete()
    from datetime import UTC, datetime, timedelta

    start = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    bookings = Booking.objects.bulk_create(
        Booking(
            resource=resource,
            requester=requester,
            start=start + timedelta(hours=n),
            end=start + timedelta(hours=n, minutes=30),
            title=f"Bench booking {n}",
            status="approved",
        )
        for n in range(args.messages)
    )

    # Queuing: one approval email with its .ics per booking, each in its own transaction,
    # as a web request would.
    timings = []
    for booking in bookings:
        began = time.perf_counter()
        with transaction.atomic():
            booking_mail.notify_decided(booking)
        timings.append(time.perf_counter() - began)
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95)] * 1000

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}?tls=false"}
    worker = [sys.executable, "-m", "bookdesk", "worker", "--once", "--no-periodic"]
    half = args.messages // 2
    try:
        # One worker drains the first half (the rows are due oldest first)…
        OutboxMessage.objects.filter(
            pk__in=[m.pk for m in OutboxMessage.objects.order_by("id")[half:]]
        ).update(next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC))
        began = time.perf_counter()
        subprocess.run(worker, cwd=PROJECT, env=env, check=True, capture_output=True)
        one = time.perf_counter() - began
        # …and two workers side by side the second half.
        OutboxMessage.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        began = time.perf_counter()
        procs = [
            subprocess.Popen(worker, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL)
            for _ in range(2)
        ]
        for proc in procs:
            proc.wait()
        two = time.perf_counter() - began
    finally:
        controller.stop()
    sent = OutboxMessage.objects.filter(status="sent").count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"- messages: {args.messages} approval emails (text + HTML + .ics), {engine}",
        f"- queuing one in its own transaction (render + insert): p50 {p50:.2f} ms, "
        f"p95 {p95:.2f} ms",
        f"- one `worker --once` over {half}: {one:.2f} s including process start "
        f"({half / one:.0f} messages/s)",
        f"- two workers side by side over {args.messages - half}: {two:.2f} s "
        f"({(args.messages - half) / two:.0f} messages/s)",
        f"- received by the SMTP server: {sink.count}; rows marked sent: {sent} "
        "(equal: no message lost or sent twice)",
        f"- load average during the run: {load} (other work on the machine slows the figures)",
    ]
    print("\n".join(lines))
    write_section(engine, lines)
    Booking.objects.filter(resource=resource).delete()


if __name__ == "__main__":
    main()
