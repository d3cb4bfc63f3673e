"""`bookdesk worker` as the separate, long-running process it is in production."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from bookdesk.core.requestid import reset_request_id, set_request_id
from bookdesk.notifications.models import OutboxMessage, OutboxStatus
from tests.conftest import PROJECT_DIR, database_url_for_subprocess

pytestmark = pytest.mark.live


def start_worker(tmp_path: Path, name: str, smtp_url: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "EMAIL_URL": smtp_url,
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bookdesk", "worker", "--no-periodic", "--poll", "0.1"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, log_path


def log_events(log_path: Path) -> list[dict]:
    events = []
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_two_workers_side_by_side_deliver_each_message_exactly_once(
    transactional_db, tmp_path, smtp_server, enqueue_note
):
    workers = [start_worker(tmp_path, f"worker-{n}", smtp_server.url) for n in (1, 2)]
    try:
        for _, log_path in workers:
            wait_until(
                lambda p=log_path: any(e["message"] == "worker started" for e in log_events(p)),
                "the worker to start",
            )
        token = set_request_id("req-side-by-side")
        try:
            with transaction.atomic():
                for n in range(60):
                    enqueue_note(to=f"person{n}@example.com")
        finally:
            reset_request_id(token)

        wait_until(lambda: len(smtp_server.inbox.messages) >= 60, "all 60 messages")
        wait_until(
            lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 60,
            "every row marked sent",
        )
    finally:
        codes = [stop(process) for process, _ in workers]

    assert codes == [0, 0]
    received = smtp_server.inbox.messages
    assert len(received) == 60
    assert len({m["Message-ID"] for m in received}) == 60
    assert {m["To"] for m in received} == {f"person{n}@example.com" for n in range(60)}

    sent_lines = [
        e for _, path in workers for e in log_events(path) if e["message"] == "email sent"
    ]
    assert len(sent_lines) == 60
    assert {e["request_id"] for e in sent_lines} == {"req-side-by-side"}
    for _, path in workers:
        assert log_events(path)[-1]["message"] == "worker stopped"


def test_the_worker_stops_cleanly_on_sigterm_while_idle(transactional_db, tmp_path, smtp_server):
    process, log_path = start_worker(tmp_path, "idle", smtp_server.url)
    wait_until(
        lambda: any(e["message"] == "worker started" for e in log_events(log_path)),
        "the worker to start",
    )
    assert stop(process) == 0
    assert log_events(log_path)[-1]["message"] == "worker stopped"


def test_with_exit_with_parent_the_worker_ends_when_its_parent_is_killed(
    transactional_db, tmp_path, smtp_server
):
    # `make run` starts the worker from the dev server; a dev server killed outright must
    # not leave a worker running on its own.
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "EMAIL_URL": smtp_server.url,
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / "orphan.log"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; "
            "print(subprocess.Popen(sys.argv[1:]).pid, flush=True); time.sleep(600)",
            *[sys.executable, "-m", "bookdesk", "worker", "--exit-with-parent"],
            *["--no-periodic", "--poll", "0.1"],
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log_path.open("wb"),
    )
    worker_pid = int(parent.stdout.readline())
    try:
        wait_until(
            lambda: any(e["message"] == "worker started" for e in log_events(log_path)),
            "the worker to start",
        )
    finally:
        parent.kill()
        parent.wait()

    try:
        wait_until(
            lambda: any(e["message"] == "worker stopped" for e in log_events(log_path)),
            "the orphaned worker to stop",
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker_pid, signal.SIGKILL)
