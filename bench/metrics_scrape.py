"""How long a Prometheus scrape of /metrics takes under gunicorn with several workers.

Starts Bookdesk the production way (deploy/bin/bookdesk-web, multiprocess metrics) with
4 workers against a fresh database, sends some traffic over a spread of views and statuses
so every worker has label sets to merge, then times N scrapes one after another.

    .venv/bin/python bench/metrics_scrape.py [--workers 4] [--scrapes 200] [--requests 2000]
        [--database-url postgres://postgres@127.0.0.1:5432/bd_bench_metrics]

Writes bench/results/metrics.md (one section per database engine).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench import results_file  # noqa: E402

RESULTS = PROJECT / "bench" / "results" / "metrics.md"
TITLE = "# /metrics scrape benchmark\n\nWritten by `bench/metrics_scrape.py`.\n"
# A spread of views, methods and statuses, as real traffic would leave behind.
TRAFFIC = [
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/no-such-page"),
    ("GET", "/accounts/login/"),
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/readyz"),
    ("GET", "/static/no-such-file.css"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> str:
    cpu = results_file.cpu_model()
    load = os.getloadavg()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
        f" (1-minute load average {load:.1f}: other work shared the machine)"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def prepare_database(url: str | None, workdir: Path) -> str:
    if url is None:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    elif url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        import psycopg

        with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "-m", "bookdesk", *command], env=env, check=True)
    return url


def drop_database(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start(url: str, workers: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_THREADS": "4",
        "METRICS_DIR": str(workdir / "metrics"),
        "UPLOADS_ROOT": str(workdir / "uploads"),
        "BOOKDESK_PYTHON": sys.executable,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [str(PROJECT / "deploy" / "bin" / "bookdesk-web")],
        env=env,
        cwd=PROJECT,
        stdout=(workdir / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise SystemExit((workdir / "gunicorn.log").read_text())


def traffic(base: str, count: int) -> None:
    def one(i: int) -> None:
        method, path = TRAFFIC[i % len(TRAFFIC)]
        # A fresh connection each time, so the requests spread over the workers.
        requests.request(method, f"{base}{path}", timeout=30, json={} if method == "POST" else None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))


def merge_time(files: list[str]) -> float:
    from prometheus_client.multiprocess import MultiProcessCollector

    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        list(MultiProcessCollector.merge(files, accumulate=True))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def write_section(name: str, lines: list[str]) -> None:
    results_file.write_section(RESULTS, TITLE, name, machine(), lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    (workdir / "uploads").mkdir()
    url = prepare_database(args.database_url, workdir)
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    process, base = start(url, args.workers, workdir)
    try:
        started = time.monotonic()
        traffic(base, args.requests)
        traffic_seconds = time.monotonic() - started
        session = requests.Session()  # keep-alive, as Prometheus scrapes
        session.get(f"{base}/metrics", timeout=30)
        times, sizes = [], []
        for _ in range(args.scrapes):
            t0 = time.perf_counter()
            response = session.get(f"{base}/metrics", timeout=30)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
            sizes.append(len(response.content))
        body = response.text
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        files = sorted(str(f) for f in (workdir / "metrics" / "web").glob("*.db"))
        merge_ms = merge_time(files)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database(url)

    p50, p95 = percentile(times, 0.50), percentile(times, 0.95)
    lines = [
        f"- gunicorn: {args.workers} gthread workers x 4 threads, started by"
        " `deploy/bin/bookdesk-web` (Prometheus multiprocess mode)",
        f"- traffic before the scrapes: {args.requests} requests over {len(TRAFFIC)} paths"
        f" in {traffic_seconds:.1f} s",
        f"- metrics files merged per scrape: {len(files)}; series exported: {series};"
        f" body {statistics.mean(sizes) / 1024:.0f} KiB",
        f"- {args.scrapes} scrapes, one after another over keep-alive:"
        f" **p50 {p50:.1f} ms, p95 {p95:.1f} ms** (min {min(times):.1f}, max {max(times):.1f})",
        f"- of which merging the files alone (prometheus_client, in this process, median of 50):"
        f" {merge_ms:.1f} ms; the rest is HTTP, Django's middleware, the outbox query and statfs",
    ]
    print("\n".join(lines))
    write_section(f"{args.workers} workers, {engine}", lines)


if __name__ == "__main__":
    main()
