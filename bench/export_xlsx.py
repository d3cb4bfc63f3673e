"""XLSX export of 100,000 bookings through gunicorn: peak RSS of the serving worker.

Run: .venv/bin/python bench/export_xlsx.py   (uses the same database as export_csv.py)
Records the worker's peak RSS (VmHWM) and the time in bench/results/exports.md ("XLSX").
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import load_workbook

from bench.export_common import (
    RESOURCES,
    Server,
    bench_admin_token,
    database_url,
    ensure_database,
    machine,
    psql,
    status_kb,
)
from bench.results_file import RESULTS_DIR, write_section

EXPORTS_TITLE = (
    "# Export benchmarks\n\nWritten by `bench/export_csv.py` and `bench/export_xlsx.py`.\n"
)

TABLE_ROWS = 1_000_000
WANTED = 100_000


def main() -> None:
    url = database_url()
    ensure_database(url, TABLE_ROWS)
    # Every resource has the same number of bookings: pick enough resources for 100,000.
    per_resource = TABLE_ROWS // RESOURCES
    ids = psql(
        url,
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM resources_resource "
        f"WHERE name LIKE 'Bench room %' ORDER BY id LIMIT {WANTED // per_resource}) s",
    )
    token = bench_admin_token(url)
    server = Server(url)
    try:
        pid = server.worker_pid()
        idle_kb = status_kb(pid, "VmRSS")
        import time

        import requests

        started = time.perf_counter()
        response = requests.get(
            f"{server.base}/api/v1/exports/bookings.xlsx?resource={ids}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=900,
        )
        response.raise_for_status()
        seconds = time.perf_counter() - started
        peak_kb = status_kb(pid, "VmHWM")
    finally:
        server.stop()
    sheet = load_workbook(io.BytesIO(response.content), read_only=True)["Bookings"]
    rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    result = [
        f"- rows: {rows:,} ({len(response.content) / 1e6:.1f} MB of XLSX), "
        f"checked by reading the file back with openpyxl",
        f"- app (gunicorn, 1 sync worker, `GET /api/v1/exports/bookings.xlsx`): "
        f"{seconds:.1f} s = {rows / seconds:,.0f} rows/s",
        f"- worker RSS before: {idle_kb / 1024:.0f} MB; "
        f"**peak RSS (VmHWM) after: {peak_kb / 1024:.0f} MB** (limit 200 MB)",
    ]
    print("\n".join(result))
    assert rows == WANTED, rows
    write_section(RESULTS_DIR / "exports.md", EXPORTS_TITLE, "XLSX", machine(), result)


if __name__ == "__main__":
    main()
