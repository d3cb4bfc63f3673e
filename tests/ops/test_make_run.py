"""What `make run` relies on: demo data only in development, the documented demo accounts,
and `bookdesk devserver` serving pages with the background worker beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from tests.conftest import PROJECT_DIR, database_url_for_subprocess, free_port


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_demo_data_is_refused_outside_development(db, settings, environment):
    settings.ENVIRONMENT = environment
    with pytest.raises(CommandError, match=environment):
        call_command("demo_data")
    from bookdesk.accounts.models import User

    assert not User.objects.exists()


def test_demo_accounts_have_the_documented_password_and_roles(db, settings):
    settings.ENVIRONMENT = "development"
    call_command("demo_data")
    for email, role in [
        ("admin@example.com", "admin"),
        ("approver@example.com", "approver"),
        ("requester@example.com", "requester"),
    ]:
        user = authenticate(email=email, password="bookdesk-demo")
        assert user is not None, email
        assert user.role == role


def _worker_pids(parent: int) -> list[int]:
    result = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [int(line.split()[0]) for line in result.stdout.splitlines() if "worker" in line]


def test_devserver_serves_pages_runs_the_worker_and_says_where_mail_is(transactional_db, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}
    env.update(BOOKDESK_ENV="development")
    for name in ("TEST_DATABASE_NAME", "SITE_URL"):
        env.pop(name, None)
    log = tmp_path / "devserver.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bookdesk", "devserver", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = requests.get(f"{url}/accounts/login/", timeout=2).status_code
            except requests.ConnectionError:
                time.sleep(0.2)
        assert status == 200, log.read_text()
        workers = _worker_pids(process.pid)
        assert workers, "the background worker was not started"
        banner = log.read_text()
        for email in ("admin@example.com", "approver@example.com", "requester@example.com"):
            assert email in banner
        assert f"{url}/dev/mailbox/" in banner
        assert requests.get(f"{url}/dev/mailbox/", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
    # The worker goes with the server; none is left behind holding the database.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
