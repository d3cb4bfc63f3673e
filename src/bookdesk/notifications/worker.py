"""The background worker behind `bookdesk worker`: sends the outbox, runs periodic tasks.

It is a plain loop over the database (no broker): poll for due mail every
WORKER_POLL_SECONDS, run the periodic tasks the apps registered (``core.periodic``) every
WORKER_PERIODIC_SECONDS, stop cleanly on SIGTERM/SIGINT after the message in hand.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Mapping

import structlog
from django.conf import settings
from django.db import close_old_connections, connection

from bookdesk.core import periodic
from bookdesk.core.dbmetrics import count_db_error
from bookdesk.core.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING
from bookdesk.core.requestid import reset_request_id, set_request_id
from bookdesk.notifications import outbox
from bookdesk.notifications.selectors import outbox_stats

log = structlog.get_logger("bookdesk.worker")
GAUGE_EVERY_SECONDS = 10.0


def refresh_db_connections() -> None:
    """Drop connections that broke or outlived CONN_MAX_AGE, as Django does between requests."""
    # Never from inside a transaction (the test suite runs the worker inside one).
    if not connection.in_atomic_block:
        close_old_connections()


def run_periodic_tasks(tasks: Mapping[str, periodic.Task] | None = None) -> dict[str, object]:
    """Run each task once (the registered ones by default); returns {name: result or the
    exception}. A failing task is logged and the others still run."""
    results: dict[str, object] = {}
    for path, task in (periodic.registered() if tasks is None else tasks).items():
        # Each run gets its own id, so its log lines and audit rows can be found together.
        run_id = f"task-{uuid.uuid4().hex[:16]}"
        token = set_request_id(run_id)
        try:
            with structlog.contextvars.bound_contextvars(request_id=run_id, task=path):
                try:
                    result = task()
                except Exception as exc:
                    log.exception("periodic task failed")
                    results[path] = exc
                else:
                    if result:
                        log.info("periodic task done", result=result)
                    results[path] = result
        finally:
            reset_request_id(token)
            refresh_db_connections()
    return results


def _gauges_are_ours() -> bool:
    # Under Prometheus multiprocess mode the web process computes these gauges at scrape
    # time; a stopped worker's last values would otherwise linger in its files.
    return not os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def update_gauges() -> tuple[int, float]:
    pending, age = outbox_stats()
    if _gauges_are_ours():
        OUTBOX_PENDING.set(pending)
        OUTBOX_OLDEST_AGE.set(age)
    return pending, age


def expected_parent_pid() -> int:
    """The process the worker should outlive no longer than. A parent that names itself in
    BOOKDESK_PARENT_PID is exact even if it dies before this process has finished starting
    (asking getppid() then would already answer with init's pid)."""
    value = os.environ.get("BOOKDESK_PARENT_PID", "")
    return int(value) if value.isdigit() else os.getppid()


class Worker:
    def __init__(
        self,
        *,
        poll_seconds: float | None = None,
        periodic: bool = True,
        exit_with_parent: bool = False,
    ):
        self.name = outbox.worker_name()
        self.poll_seconds = settings.WORKER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.periodic = periodic
        self.stopping = threading.Event()
        # After an unexpected error (the database restarting, say), before trying again.
        self.error_backoff_seconds = 5.0
        # `make run` starts the worker beside the web server: if that parent is killed
        # without passing the signal on, the worker must not live on unseen.
        self.parent_pid = expected_parent_pid() if exit_with_parent else None

    def stop(self, *_args) -> None:
        self.stopping.set()

    def drain(self) -> outbox.BatchResult:
        """Send everything due now (mail that fails is rescheduled, so this ends)."""
        total = outbox.BatchResult()
        while not self.stopping.is_set():
            messages = outbox.claim_due(worker=self.name)
            if not messages:
                break
            result = outbox.send_batch(messages, worker=self.name, should_stop=self.stopping.is_set)
            total.sent += result.sent
            total.failed += result.failed
            total.released += result.released
            if result.released:
                break  # the relay is down: wait for the next poll rather than spin
        return total

    def run_once(self) -> outbox.BatchResult:
        if self.periodic:
            run_periodic_tasks()
        result = self.drain()
        update_gauges()
        return result

    def run_forever(self) -> None:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._loop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(self) -> None:
        log.info("worker started", worker=self.name, poll_seconds=self.poll_seconds)
        next_periodic = next_gauges = 0.0
        while not self.stopping.is_set():
            # First, so that a worker whose loop keeps failing still notices its parent left.
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.warning("the process that started the worker is gone; stopping")
                break
            idle = True
            try:
                refresh_db_connections()
                now = time.monotonic()
                if self.periodic and now >= next_periodic:
                    next_periodic = now + settings.WORKER_PERIODIC_SECONDS
                    run_periodic_tasks()
                result = self.drain()
                idle = not (result.sent or result.failed)
                if time.monotonic() >= next_gauges:
                    next_gauges = time.monotonic() + GAUGE_EVERY_SECONDS
                    update_gauges()
            except Exception as exc:
                # A database restart or similar: log, back off, keep the process alive.
                count_db_error(exc)
                log.exception("worker loop failed; retrying")
                with contextlib.suppress(Exception):
                    refresh_db_connections()
                self.stopping.wait(max(self.error_backoff_seconds, self.poll_seconds))
                continue
            if idle:
                self.stopping.wait(self.poll_seconds)
        log.info("worker stopped", worker=self.name)
