"""`bookdesk smoke` against a real gunicorn on loopback, and `bookdesk smoke_setup`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from bookdesk.ops import smoke, smoke_accounts
from tests.conftest import PROJECT_DIR, start_app_server, stop_app_server


@pytest.fixture
def uploads_root(settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    return settings.UPLOADS_ROOT


@pytest.fixture
def smoke_env(tmp_path) -> dict[str, str]:
    """Fresh SMOKE_* values, as `bookdesk smoke_setup --generate` prints them."""
    env_file = tmp_path / "smoke.env"
    env_file.write_text(smoke_accounts.generate_env("smoke.test"))
    return smoke.read_env_file(env_file)


def setup_accounts(values: dict[str, str]) -> list[str]:
    return smoke_accounts.smoke_setup(smoke_accounts.secrets_from_env(values))


def run_smoke(url: str, values: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOKE_")}
    env.update(values)
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "bookdesk", "smoke", "--base-url", url],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )


def states(output: str) -> dict[str, str]:
    """{"book": "ok", "export-csv": "FAIL", ...} from the one line per check."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in {"ok", "FAIL", "skip"}:
            found[parts[1]] = parts[0]
    return found


CHECKS = [
    "health",
    "signin-requester",
    "signin-approver",
    "resource",
    "book",
    "approve",
    "upload",
    "download",
    "export-csv",
    "export-xlsx",
    "cleanup",
]


@pytest.mark.live
def test_smoke_passes_against_a_live_server_and_leaves_nothing_behind(
    transactional_db, tmp_path, smoke_env, uploads_root
):
    from bookdesk.attachments.models import Attachment
    from bookdesk.bookings.models import Booking

    setup_accounts(smoke_env)
    server = start_app_server(
        tmp_path, workers=1, threads=4, extra_env={"UPLOADS_ROOT": str(uploads_root)}
    )
    try:
        result = run_smoke(server.url, smoke_env)
    finally:
        stop_app_server(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert states(result.stdout) == dict.fromkeys(CHECKS, "ok")
    assert "smoke: passed (11 checks)" in result.stdout
    booking = Booking.objects.get()
    assert booking.status == "cancelled"
    assert booking.decided_by.email == smoke_env["SMOKE_APPROVER_EMAIL"]
    assert not Attachment.objects.exists()
    assert [p for p in uploads_root.rglob("*") if p.is_file()] == []
    # No secret of the run is printed.
    for key in ("SMOKE_REQUESTER_PASSWORD", "SMOKE_REQUESTER_TOTP_SECRET"):
        assert smoke_env[key] not in result.stdout + result.stderr


@pytest.mark.live
def test_a_broken_export_fails_the_smoke_naming_the_check_and_still_cleans_up(
    transactional_db, tmp_path, smoke_env, uploads_root
):
    from bookdesk.bookings.models import Booking

    setup_accounts(smoke_env)
    server = start_broken_export_server(tmp_path, uploads_root)
    try:
        result = run_smoke(server.url, smoke_env)
    finally:
        stop_app_server(server)
    assert result.returncode == 1, result.stdout + result.stderr
    found = states(result.stdout)
    assert found["export-csv"] == "FAIL"
    assert found["export-xlsx"] == "ok"
    assert found["cleanup"] == "ok"
    assert "HTTP 500" in next(line for line in result.stdout.splitlines() if "export-csv" in line)
    assert result.stdout.strip().splitlines()[-1] == "smoke: FAILED: export-csv"
    assert Booking.objects.get().status == "cancelled"


def start_broken_export_server(tmp_path, uploads_root):
    """Like start_app_server, but serving tests/ops/broken_export_wsgi.py."""
    import time

    import requests

    from tests.conftest import AppServer, database_url_for_subprocess, free_port

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "BOOKDESK_ENV": "development",
        "UPLOADS_ROOT": str(uploads_root),
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / "broken.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.ops.broken_export_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return AppServer(url=url, process=process, log_path=log_path)
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(log_path.read_text(errors="replace"))


def test_smoke_names_every_missing_variable_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOKE_")}
    env["SMOKE_REQUESTER_EMAIL"] = "smoke@example.org"
    result = subprocess.run(
        [sys.executable, "-m", "bookdesk", "smoke", "--base-url", "http://127.0.0.1:9"],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 2
    assert "SMOKE_REQUESTER_PASSWORD" in result.stdout
    assert "SMOKE_APPROVER_TOTP_SECRET" in result.stdout
    assert "SMOKE_REQUESTER_EMAIL," not in result.stdout


def test_an_unreachable_site_fails_health_and_skips_what_needs_a_session(smoke_env):
    lines = []
    config = smoke.config_from_env("http://127.0.0.1:9", smoke_env)
    result = smoke.run(config, echo=lines.append)
    assert not result.passed
    found = states("\n".join(lines))
    assert found["health"] == "FAIL"
    assert found["signin-requester"] == "FAIL"
    assert found["book"] == "skip"
    assert "cleanup" not in found  # nothing was made, so nothing to remove


def test_smoke_setup_is_idempotent_and_puts_back_what_drifted(db, smoke_env):
    from django.contrib.auth import authenticate
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from bookdesk.accounts.models import User
    from bookdesk.resources.models import Resource

    first = setup_accounts(smoke_env)
    assert any("created resource" in change for change in first)
    assert setup_accounts(smoke_env) == []

    approver = User.objects.get(email=smoke_env["SMOKE_APPROVER_EMAIL"])
    approver.set_password("something else entirely")
    approver.role = "requester"
    approver.save()
    resource = Resource.objects.get(name=smoke.DEFAULT_RESOURCE_NAME)
    resource.requires_approval = False
    resource.save()
    resource.approver_groups.clear()

    again = setup_accounts(smoke_env)
    assert any("password" in change and "role" in change for change in again)
    assert any("requires_approval" in change for change in again)
    assert any("only approver group" in change for change in again)
    assert authenticate(
        email=smoke_env["SMOKE_APPROVER_EMAIL"], password=smoke_env["SMOKE_APPROVER_PASSWORD"]
    )
    device = TOTPDevice.objects.get(user__email=smoke_env["SMOKE_REQUESTER_EMAIL"])
    assert device.confirmed
    assert device.key == smoke.totp_key(smoke_env["SMOKE_REQUESTER_TOTP_SECRET"]).hex()


def test_smoke_setup_keeps_the_smoke_resource_away_from_real_approvers(db, smoke_env, bob):
    from bookdesk.resources.models import Resource
    from bookdesk.resources.selectors import approvers_for, user_may_decide

    setup_accounts(smoke_env)
    resource = Resource.objects.get(name=smoke.DEFAULT_RESOURCE_NAME)
    assert [u.email for u in approvers_for(resource)] == [smoke_env["SMOKE_APPROVER_EMAIL"]]
    assert not user_may_decide(bob, resource)
    assert "do not book" in resource.name.lower()


def test_smoke_setup_refuses_missing_or_malformed_secrets(db, smoke_env, monkeypatch):
    from django.core.management.base import CommandError

    broken = {**smoke_env, "SMOKE_APPROVER_TOTP_SECRET": "not base32 at all!"}
    with pytest.raises(ValueError, match="SMOKE_APPROVER_TOTP_SECRET"):
        smoke_accounts.secrets_from_env(broken)
    for key in list(os.environ):
        if key.startswith("SMOKE_"):
            monkeypatch.delenv(key)
    with pytest.raises(CommandError, match="SMOKE_REQUESTER_EMAIL"):
        call_command("smoke_setup")


def test_codes_match_rfc_6238():
    # RFC 6238's SHA-1 test vector: key "12345678901234567890", T = 59 s -> 94287082.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert smoke.totp_code(secret, at=59) == "287082"  # the last six digits
