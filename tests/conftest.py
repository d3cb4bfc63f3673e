"""Shared fixtures: personas, a real SMTP server, and the app running under gunicorn.

Tests run twice by `make test`: against PostgreSQL and against SQLite (see the Makefile).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from django.contrib.auth.hashers import PBKDF2PasswordHasher

PROJECT_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


class FastPBKDF2(PBKDF2PasswordHasher):
    """Django's PBKDF2 with few rounds: the same code path (and a hash the servers started by
    the tests verify), without ~200 ms for every persona created or signed in."""

    iterations = 1000


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.conftest.FastPBKDF2"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def alice(db):
    """A requester."""
    from bookdesk.accounts.models import Role, User

    return User.objects.create_user(
        "alice@example.com", PASSWORD, role=Role.REQUESTER, full_name="Alice Requester"
    )


@pytest.fixture
def bob(db):
    """An approver."""
    from bookdesk.accounts.models import Role, User

    return User.objects.create_user(
        "bob@example.com", PASSWORD, role=Role.APPROVER, full_name="Bob Approver"
    )


@pytest.fixture
def carol(db):
    """An admin."""
    from bookdesk.accounts.models import Role, User

    return User.objects.create_user(
        "carol@example.com", PASSWORD, role=Role.ADMIN, full_name="Carol Admin"
    )


@pytest.fixture
def dave(db):
    """Another requester, who must not see Alice's things."""
    from bookdesk.accounts.models import Role, User

    return User.objects.create_user(
        "dave@example.com", PASSWORD, role=Role.REQUESTER, full_name="Dave Other"
    )


# --- a real SMTP server -------------------------------------------------------------------


@dataclass
class Inbox:
    messages: list = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "554 5.7.1 Relay refuses mail for now"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no mail for {address} within {timeout}s: {self.messages!r}")


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; ``.inbox`` holds what it received."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    controller.inbox = inbox
    controller.url = f"smtp://127.0.0.1:{port}?tls=false"
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """Point Django's mail at the real SMTP server above."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_server


# --- the app under gunicorn ---------------------------------------------------------------


def database_url_for_subprocess() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    auth = cfg["USER"] or "postgres"
    if cfg["PASSWORD"]:
        auth += f":{cfg['PASSWORD']}"
    return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_app_server(
    tmp_path: Path,
    *,
    workers: int = 2,
    threads: int = 8,
    extra_env: dict | None = None,
    production_start: bool = False,
) -> AppServer:
    """Start the app under gunicorn against the test database (use with transactional_db).

    ``production_start=True`` starts it the way a server does: deploy/bin/bookdesk-web with
    bookdesk.ops.gunicorn_conf (Prometheus multiprocess directory under tmp_path/metrics).
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "BOOKDESK_ENV": "development",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / f"gunicorn-{port}.log"
    if production_start:
        env.update(
            BIND=f"127.0.0.1:{port}",
            WEB_WORKERS=str(workers),
            WEB_THREADS=str(threads),
            METRICS_DIR=str(tmp_path / "metrics"),
            BOOKDESK_PYTHON=sys.executable,
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(extra_env or {})
        command = [str(PROJECT_DIR / "deploy" / "bin" / "bookdesk-web")]
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bookdesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
        ]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return AppServer(url=url, process=process, log_path=log_path)
        except (requests.ConnectionError, requests.Timeout):
            # Not listening yet, or workers still loading the app (the backlog waits).
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn did not answer: {log_path.read_text(errors='replace')}")


def stop_app_server(server: AppServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def app_server(transactional_db, tmp_path):
    server = start_app_server(tmp_path)
    try:
        yield server
    finally:
        stop_app_server(server)
