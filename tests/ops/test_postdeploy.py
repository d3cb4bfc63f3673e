"""Post-deploy checks (`bookdesk postdeploy`): readiness over a settle period, the smoke
tests, no new firing alert in a real Alertmanager, no new error lines in the logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bookdesk.ops import postdeploy, smoke, smoke_accounts
from tests.conftest import PROJECT_DIR, free_port, start_app_server, stop_app_server
from tests.monitoring.stack import Processes, binary, wait_until

SINCE = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def config(**overrides) -> postdeploy.PostDeployConfig:
    values = {
        "base_url": "http://127.0.0.1:9",
        "environment": "production",
        "since": SINCE,
        "settle_seconds": 0.3,
        "interval_seconds": 0.1,
    }
    values.update(overrides)
    return postdeploy.PostDeployConfig(**values)


# --- logs -------------------------------------------------------------------------------------


def central(at: datetime, level: str, event: str, program: str = "bookdesk-web") -> str:
    body = json.dumps({"event": event, "level": level, "timestamp": at.isoformat()})
    return f"{at.isoformat()} app1 {program} {body}\n"


def test_error_lines_since_the_deploy_fail_and_older_ones_do_not(tmp_path):
    log = tmp_path / "app1" / "bookdesk-web.log"
    log.parent.mkdir()
    log.write_text(
        central(SINCE - timedelta(minutes=10), "error", "before the deploy")
        + central(SINCE + timedelta(seconds=30), "info", "request")
        + central(SINCE + timedelta(seconds=40), "error", "database went away")
        + "Traceback (most recent call last):\n  File x\n"
    )
    with pytest.raises(postdeploy.CheckFailed, match="1 error lines since 12:00:00Z") as failed:
        postdeploy.check_logs(config(log_files=[str(tmp_path / "*" / "*.log")]))
    assert "database went away" in str(failed.value)
    assert "before the deploy" not in str(failed.value)
    detail = postdeploy.check_logs(
        config(log_files=[str(tmp_path / "*" / "*.log")], max_error_lines=1)
    )
    assert detail == "2 lines since 12:00:00Z, 1 errors"


def test_plain_json_lines_from_a_log_command_count_too(tmp_path):
    journal = tmp_path / "journal.txt"
    journal.write_text(
        json.dumps({"event": "boom", "level": "critical", "timestamp": "2026-03-01T12:05:00Z"})
        + "\n"
    )
    with pytest.raises(postdeploy.CheckFailed, match="1 error lines"):
        postdeploy.check_logs(config(log_commands=[f"cat {journal}"]))
    with pytest.raises(postdeploy.CheckFailed, match="log command failed"):
        postdeploy.check_logs(config(log_commands=[f"cat {tmp_path / 'missing'}"]))
    # {since_epoch} and {since} are filled in before the command runs.
    epoch = int(SINCE.timestamp())
    detail = postdeploy.check_logs(
        config(log_commands=[f"sh -c 'test {{since_epoch}} -eq {epoch} && echo {{since}}'"])
    )
    assert detail == "0 lines since 12:00:00Z, 0 errors"


def test_no_log_source_is_a_failure_not_a_silent_pass():
    with pytest.raises(postdeploy.CheckFailed, match="no log source"):
        postdeploy.check_logs(config())
    with pytest.raises(postdeploy.CheckFailed, match="no log file matches"):
        postdeploy.check_logs(config(log_files=["/nonexistent/*.log"]))


# --- readiness --------------------------------------------------------------------------------


class FakeReady:
    """/readyz answering the given (status code, body status) in turn, then the last one."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.polls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                code, status = outer.answers[min(outer.polls, len(outer.answers) - 1)]
                outer.polls += 1
                body = json.dumps(
                    {"status": status, "checks": {"database:responseTime": [{"status": status}]}}
                ).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/health+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_readiness_must_hold_for_the_whole_settle_period():
    fake = FakeReady([(200, "pass"), (200, "warn"), (503, "fail")])
    try:
        with pytest.raises(postdeploy.CheckFailed) as failed:
            postdeploy.check_readiness(config(base_url=fake.url, settle_seconds=1.0))
    finally:
        fake.close()
    assert "poll 3/" in str(failed.value)
    assert "HTTP 503" in str(failed.value)
    assert "database:responseTime" in str(failed.value)


def test_readiness_passes_when_every_poll_is_ready():
    fake = FakeReady([(200, "pass"), (200, "warn")])
    try:
        detail = postdeploy.check_readiness(config(base_url=fake.url, settle_seconds=0.3))
    finally:
        fake.close()
    assert detail == "4 polls over 0s, all ready (3 with warnings)"
    assert fake.polls == 4


# --- alerts (a real Alertmanager) -------------------------------------------------------------


@pytest.fixture
def alertmanager(tmp_path):
    port = free_port()
    (tmp_path / "am").mkdir()
    conf = tmp_path / "am" / "alertmanager.yml"
    conf.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
    procs = Processes()
    procs.start(
        "alertmanager",
        [
            binary("prometheus-alertmanager"),
            f"--config.file={conf}",
            f"--storage.path={tmp_path / 'am' / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: requests.get(f"{url}/-/ready", timeout=1).ok, timeout=30, what="Alertmanager"
        )
        yield url
    finally:
        procs.stop_all()


def fire(url: str, name: str, env: str, started: datetime) -> None:
    alert = {
        "labels": {"alertname": name, "env": env, "severity": "page"},
        "annotations": {"summary": name},
        "startsAt": started.isoformat(),
        "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    requests.post(f"{url}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()
    wait_until(
        lambda: any(
            a["labels"]["alertname"] == name
            for a in requests.get(f"{url}/api/v2/alerts", timeout=5).json()
        ),
        timeout=10,
        what=f"{name} to be active",
    )


@pytest.mark.live
def test_only_a_new_alert_of_this_environment_fails(alertmanager):
    since = datetime.now(UTC)
    fire(alertmanager, "DiskAlmostFull", "production", since - timedelta(hours=2))
    fire(alertmanager, "SiteDown", "staging", since + timedelta(seconds=1))
    detail = postdeploy.check_alerts(config(alertmanager_url=alertmanager, since=since))
    assert detail.startswith("none new for env=production; already firing before: DiskAlmostFull")

    fire(alertmanager, "HighErrorRate", "production", since + timedelta(seconds=2))
    with pytest.raises(
        postdeploy.CheckFailed, match="firing since the deploy began: HighErrorRate"
    ):
        postdeploy.check_alerts(config(alertmanager_url=alertmanager, since=since))


def test_an_unreachable_alertmanager_fails_the_check():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(postdeploy.CheckFailed, match="Alertmanager unreachable"):
        postdeploy.check_alerts(config(alertmanager_url=url))
    with pytest.raises(postdeploy.CheckFailed, match="no Alertmanager URL"):
        postdeploy.check_alerts(config())


# --- the command, end to end ----------------------------------------------------------------


@pytest.mark.live
def test_postdeploy_passes_on_a_healthy_release_then_fails_on_a_new_alert(
    transactional_db, tmp_path, settings, alertmanager
):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    env_file = tmp_path / "smoke.env"
    env_file.write_text(smoke_accounts.generate_env("smoke.test"))
    smoke_accounts.smoke_setup(smoke_accounts.secrets_from_env(smoke.read_env_file(env_file)))
    log = tmp_path / "bookdesk-web.log"
    since = datetime.now(UTC)
    log.write_text(central(since - timedelta(minutes=5), "error", "an old error"))
    server = start_app_server(
        tmp_path, workers=1, threads=4, extra_env={"UPLOADS_ROOT": str(settings.UPLOADS_ROOT)}
    )
    command = [
        sys.executable, "-m", "bookdesk", "postdeploy",
        "--base-url", server.url, "--environment", "production", "--since", since.isoformat(),
        "--settle", "1", "--interval", "0.5", "--alertmanager-url", alertmanager,
        "--log-file", str(log), "--smoke-env-file", str(env_file),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOKE_")}
    env.pop("TEST_DATABASE_NAME", None)
    try:
        healthy = subprocess.run(
            command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=240
        )
        fire(alertmanager, "HighErrorRate", "production", datetime.now(UTC))
        with log.open("a") as handle:
            handle.write(central(datetime.now(UTC), "error", "a new error"))
        broken = subprocess.run(
            [*command, "--skip", "smoke"],
            env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    finally:
        stop_app_server(server)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    lines = healthy.stdout.splitlines()
    assert lines[-1] == "post-deploy: passed"
    for name in ("readiness", "smoke", "alerts", "logs"):
        assert any(line.startswith(f"ok    {name}") for line in lines), healthy.stdout
    assert any(line.strip().startswith("ok    export-xlsx") for line in lines)

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.splitlines()[-1] == "post-deploy: FAILED: alerts, logs (roll back)"
    assert "skip  smoke" in broken.stdout
    assert "a new error" in broken.stdout
