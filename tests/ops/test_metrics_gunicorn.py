"""/metrics under a real gunicorn with several workers, started by deploy/bin/bookdesk-web."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PROJECT_DIR, start_app_server, stop_app_server

pytestmark = pytest.mark.live

BIN = PROJECT_DIR / "deploy" / "bin"
NOT_FOUND = "django_http_responses_total_by_status"


def scrape(url: str) -> dict[str, float]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def worker_pids(server) -> set[int]:
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def served_404s(web_dir: Path) -> dict[int, float]:
    """404 responses per process, read straight from each process's file."""
    counts = {}
    for path in glob.glob(str(web_dir / "counter_*.db")):
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(path):
            if f'"{NOT_FOUND}_total"' in key and '"404"' in key and value > 0:
                counts[int(Path(path).stem.split("_")[1])] = value
    return counts


def pids_that_served_404s(web_dir: Path) -> set[int]:
    return set(served_404s(web_dir))


def write_counter(path: Path, name: str, labels: dict, value: float) -> None:
    store = MmapedDict(str(path))
    key = mmap_key(name, f"{name}_total", list(labels), list(labels.values()), "test")
    store.write_value(key, value, 0.0)
    store.close()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One server for the module (starting one costs seconds); tests count in differences."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    web_dir = tmp_path / "metrics" / "web"
    worker_dir = tmp_path / "metrics" / "worker"
    web_dir.mkdir(parents=True)
    worker_dir.mkdir()
    # Left over from a previous run: must not count in this one.
    write_counter(web_dir / "counter_4242.db", "bookdesk_auth_lockouts", {}, 42)
    (web_dir / "README").write_text("not a metrics file")
    # The server reads the test database's tables (migrated by django_db_setup) directly.
    with django_db_blocker.unblock():
        server = start_app_server(tmp_path, workers=3, threads=2, production_start=True)
    server.web_dir = web_dir
    try:
        yield server
    finally:
        stop_app_server(server)


def count_404(server) -> float:
    return scrape(server.url).get(f"{NOT_FOUND}_total{{status=404}}", 0)


def get_404(server) -> None:
    assert requests.get(f"{server.url}/api/v1/no-such-page", timeout=5).status_code == 404


def test_the_start_script_wipes_old_files_but_keeps_the_workers(server):
    samples = scrape(server.url)
    assert samples["bookdesk_auth_lockouts_total{}"] == 0
    assert not (server.web_dir / "counter_4242.db").exists()
    assert (server.web_dir / "README").exists()


def test_every_scrape_adds_up_all_workers(server):
    before = count_404(server)
    per_process_before = served_404s(server.web_dir)

    def processes_that_served_since():
        now = served_404s(server.web_dir)
        return {pid for pid, n in now.items() if n > per_process_before.get(pid, 0)}

    sent = 0
    # Fresh connections land on whichever worker accepts; go on until two have served some.
    while len(processes_that_served_since()) < 2 and sent < 600:
        for _ in range(10):
            get_404(server)
        sent += 10
    assert len(processes_that_served_since()) >= 2
    for _ in range(6):
        assert count_404(server) == before + sent


def test_a_dead_worker_is_marked_and_its_counts_kept(server):
    before = count_404(server)
    sent = 0
    while not (pids_that_served_404s(server.web_dir) & worker_pids(server)) and sent < 100:
        get_404(server)
        sent += 1
    get_404(server)
    sent += 1
    victim = next(iter(pids_that_served_404s(server.web_dir) & worker_pids(server)))
    # A live gauge file of that worker: mark_process_dead must remove it.
    live = server.web_dir / f"gauge_livesum_{victim}.db"
    live.write_bytes(b"")
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while live.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not live.exists(), "child_exit did not mark the worker dead"
    while len(worker_pids(server)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    for _ in range(4):
        assert count_404(server) == before + sent


def test_gunicorn_and_app_write_one_json_object_per_line(server):
    response = requests.get(
        f"{server.url}/api/v1/no-such-page",
        headers={"X-Request-ID": "nginx-req-0123456789"},
        timeout=5,
    )
    assert response.headers["X-Request-ID"] == "nginx-req-0123456789"
    made = requests.get(f"{server.url}/api/v1/no-such-page", timeout=5).headers["X-Request-ID"]
    assert len(made) == 32
    deadline = time.monotonic() + 10
    while made not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    # Complete lines only: the server is still running and may be writing the next one.
    text = server.log()
    lines = [line for line in text[: text.rfind("\n")].splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    for event in events:
        assert {"timestamp", "level", "logger", "message"} <= event.keys(), event
    assert any(e["logger"] == "gunicorn.error" for e in events)
    requests_logged = {e["request_id"]: e for e in events if e["logger"] == "bookdesk.request"}
    line = requests_logged["nginx-req-0123456789"]
    assert line["path"] == "/api/v1/no-such-page"
    assert line["status"] == 404
    assert line["user_id"] is None
    assert line["duration_ms"] >= 0
    assert made in requests_logged


def test_the_background_workers_counters_appear_in_the_web_servers_metrics(
    server, transactional_db, smtp_server
):
    # bookdesk-worker writes to METRICS_DIR/worker; bookdesk-web reads it with its own.
    from bookdesk.notifications.services import enqueue_email
    from tests.conftest import database_url_for_subprocess

    enqueue_email(kind="ops_test", to=["ops@example.com"], template="booking-requested", context={})
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DATABASE_URL=database_url_for_subprocess(),
        EMAIL_URL=smtp_server.url,
        METRICS_DIR=str(server.web_dir.parent),
        BOOKDESK_PYTHON=sys.executable,
    )
    env.pop("TEST_DATABASE_NAME", None)
    subprocess.run(
        [str(BIN / "bookdesk-worker"), "--once", "--no-periodic"],
        env=env,
        cwd=PROJECT_DIR,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert smtp_server.inbox.wait_for("ops@example.com")
    samples = scrape(server.url)
    assert samples["bookdesk_emails_total{kind=ops_test,result=sent}"] == 1
