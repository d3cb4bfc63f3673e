"""/metrics under a real gunicorn with several workers, started by deploy/bin/bookdesk-web."""

from __future__ import annotations

import glob
import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import start_app_server, stop_app_server

pytestmark = pytest.mark.live

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


def pids_that_served_404s(web_dir: Path) -> set[int]:
    pids = set()
    for path in glob.glob(str(web_dir / "counter_*.db")):
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(path):
            if f'"{NOT_FOUND}_total"' in key and '"404"' in key and value > 0:
                pids.add(int(Path(path).stem.split("_")[1]))
    return pids


def write_counter(path: Path, name: str, labels: dict, value: float) -> None:
    store = MmapedDict(str(path))
    key = mmap_key(name, f"{name}_total", list(labels), list(labels.values()), "test")
    store.write_value(key, value, 0.0)
    store.close()


@pytest.fixture
def server(transactional_db, tmp_path):
    web_dir = tmp_path / "metrics" / "web"
    worker_dir = tmp_path / "metrics" / "worker"
    web_dir.mkdir(parents=True)
    worker_dir.mkdir()
    # Left over from a previous run: must not count in this one.
    write_counter(web_dir / "counter_4242.db", "bookdesk_auth_lockouts", {}, 42)
    (web_dir / "README").write_text("not a metrics file")
    # Written by the background worker, which bookdesk-web does not restart.
    write_counter(
        worker_dir / "counter_5151.db",
        "bookdesk_emails",
        {"kind": "booking_decided", "result": "sent"},
        3,
    )
    server = start_app_server(tmp_path, workers=3, threads=2, production_start=True)
    server.web_dir = web_dir
    try:
        yield server
    finally:
        stop_app_server(server)


def test_every_scrape_adds_up_all_workers(server):
    sent = 0
    # Fresh connections land on whichever worker accepts; go on until two have served some.
    while len(pids_that_served_404s(server.web_dir)) < 2 and sent < 600:
        for _ in range(10):
            assert requests.get(f"{server.url}/api/v1/no-such-page", timeout=5).status_code == 404
        sent += 10
    assert len(pids_that_served_404s(server.web_dir)) >= 2
    for _ in range(6):
        assert scrape(server.url)[f"{NOT_FOUND}_total{{status=404}}"] == sent


def test_the_start_script_wipes_old_files_but_keeps_the_workers(server):
    samples = scrape(server.url)
    assert samples["bookdesk_auth_lockouts_total{}"] == 0
    assert not (server.web_dir / "counter_4242.db").exists()
    assert (server.web_dir / "README").exists()
    assert samples["bookdesk_emails_total{kind=booking_decided,result=sent}"] == 3


def test_a_dead_worker_is_marked_and_its_counts_kept(server):
    sent = 0
    while not pids_that_served_404s(server.web_dir) and sent < 100:
        requests.get(f"{server.url}/api/v1/no-such-page", timeout=5)
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
        assert scrape(server.url)[f"{NOT_FOUND}_total{{status=404}}"] == sent


def test_gunicorn_and_app_write_one_json_object_per_line(server):
    response = requests.get(
        f"{server.url}/api/v1/no-such-page",
        headers={"X-Request-ID": "nginx-req-0123456789"},
        timeout=5,
    )
    assert response.headers["X-Request-ID"] == "nginx-req-0123456789"
    made = requests.get(f"{server.url}/api/v1/no-such-page", timeout=5).headers["X-Request-ID"]
    assert len(made) == 32
    stop_app_server(server)
    lines = [line for line in server.log().splitlines() if line.strip()]
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
