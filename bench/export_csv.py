"""CSV export of 1,000,000 bookings through gunicorn vs `psql \\copy` of the same rows.

Run: .venv/bin/python bench/export_csv.py [rows]   (PostgreSQL at BENCH_DATABASE_URL)
Records peak RSS (VmHWM) of the gunicorn worker that served the export, rows/s of both, and
their ratio, in bench/results/exports.md (section "CSV").
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.export_common import (
    Server,
    bench_admin_token,
    database_url,
    ensure_database,
    fetch,
    machine,
    psql_args,
    status_kb,
)
from bench.results_file import RESULTS_DIR, write_section

EXPORTS_TITLE = (
    "# Export benchmarks\n\nWritten by `bench/export_csv.py` and `bench/export_xlsx.py`.\n"
)

SAME_ROWS_SQL = (
    "SELECT b.id, r.name, r.location, u.email, b.title, b.purpose, b.attendees, b.status, "
    'b.start, b."end", r.timezone, b.created_at, b.updated_at, d.email, b.decided_at, '
    "b.decision_reason FROM bookings_booking b "
    "JOIN resources_resource r ON r.id = b.resource_id "
    "JOIN accounts_user u ON u.id = b.requester_id "
    "LEFT JOIN accounts_user d ON d.id = b.decided_by_id ORDER BY b.start, b.id"
)


def psql_copy_seconds(url: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [*psql_args(url), "-c", f"\\copy ({SAME_ROWS_SQL}) TO '/dev/null' CSV HEADER"],
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    url = database_url()
    ensure_database(url, rows)
    token = bench_admin_token(url)
    server = Server(url)
    try:
        pid = server.worker_pid()
        idle_kb = status_kb(pid, "VmRSS")
        size, lines, app_seconds = fetch(server, "/api/v1/exports/bookings.csv", token)
        peak_kb = status_kb(pid, "VmHWM")
    finally:
        server.stop()
    copy_seconds = psql_copy_seconds(url)
    # Some purposes hold no newlines, so lines = rows + header.
    exported = lines - 1
    app_rate = exported / app_seconds
    copy_rate = rows / copy_seconds
    ratio = app_rate / copy_rate
    result = [
        f"- rows: {exported:,} exported ({size / 1e6:.1f} MB of CSV), {rows:,} in the table",
        f"- app (gunicorn, 1 sync worker, `GET /api/v1/exports/bookings.csv`): "
        f"{app_seconds:.1f} s = **{app_rate:,.0f} rows/s**",
        f"- `psql \\copy (same SELECT with joins, same order) TO '/dev/null' CSV`: "
        f"{copy_seconds:.1f} s = {copy_rate:,.0f} rows/s",
        f"- ratio app / psql: **{ratio:.2f}** (target ≥ 0.25)",
        f"- worker RSS before the export: {idle_kb / 1024:.0f} MB; "
        f"**peak RSS (VmHWM) after it: {peak_kb / 1024:.0f} MB** (limit 150 MB)",
    ]
    print("\n".join(result))
    assert exported == rows, f"exported {exported} of {rows} rows"
    write_section(RESULTS_DIR / "exports.md", EXPORTS_TITLE, "CSV", machine(), result)


if __name__ == "__main__":
    main()
