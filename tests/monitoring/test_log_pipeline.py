"""mtail programs and rsyslog configs: they parse, and they count what the alerts expect."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.monitoring.rendering import render
from tests.monitoring.rules import MONITORING
from tests.monitoring.stack import binary

pytestmark = pytest.mark.static

MTAIL_DIR = MONITORING / "mtail"


def nginx_line(*, uri: str, status: int, method: str = "GET", seconds: float = 0.05) -> str:
    # Built the way nginx's `escape=json` log_format (nginx/log_format.conf) writes it.
    fields = [
        ("time", json.dumps("2026-11-26T14:00:00+00:00")),
        ("remote_addr", json.dumps("192.0.2.10")),
        ("request_id", json.dumps("0f3a9c2e5b7d4e1f")),
        ("method", json.dumps(method)),
        ("uri", json.dumps(uri)),
        ("status", str(status)),
        ("bytes", "512"),
        ("request_time", f"{seconds:.3f}"),
        ("upstream_time", json.dumps(f"{seconds:.3f}")),
        ("host", json.dumps("bookdesk.example.org")),
        ("user_agent", json.dumps('Mozilla/5.0 "quoted"')),
    ]
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields) + "}"


def app_line(host: str, program: str, level: str, event: str) -> str:
    # What rsyslog-central.conf's BookdeskCentral template writes for one app log line.
    message = json.dumps({"path": "/x", "level": level, "logger": "bookdesk", "message": event})
    return f"2026-11-26T14:00:00.123456+00:00 {host} {program} {message}"


def mtail_one_shot(tmp_path, name: str, lines: list[str]) -> dict[str, float]:
    log = tmp_path / "input.log"
    log.write_text("\n".join(lines) + "\n")
    progs = tmp_path / "progs"
    progs.mkdir()
    shutil.copy(MTAIL_DIR / name, progs / name)
    done = subprocess.run(
        [
            binary("mtail"),
            "--one_shot",
            "--one_shot_format=prometheus",
            "--emit_prog_label=false",
            "--progs",
            str(progs),
            "--logs",
            str(log),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    samples = {}
    for line in done.stdout.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples


def test_mtail_programs_compile():
    done = subprocess.run(
        ["mtail", "--compile_only", "--progs", str(MTAIL_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_nginx_program_counts_requests_by_status_and_leaves_out_probes(tmp_path):
    samples = mtail_one_shot(
        tmp_path,
        "nginx.mtail",
        [
            nginx_line(uri="/bookings/", status=200),
            nginx_line(uri="/api/v1/auth/login", status=502, method="POST", seconds=1.5),
            nginx_line(uri="/api/v1/auth/login", status=502, method="POST", seconds=0.2),
            nginx_line(uri='/odd"path', status=404),
            nginx_line(uri="/readyz", status=503),
        ],
    )
    assert samples['nginx_access_requests_total{method="GET",status="200"}'] == 1
    assert samples['nginx_access_requests_total{method="POST",status="502"}'] == 2
    assert samples['nginx_access_requests_total{method="GET",status="404"}'] == 1
    assert samples['nginx_access_probe_requests_total{status="503"}'] == 1
    assert not any("readyz" in key for key in samples)
    assert samples['nginx_access_request_duration_seconds_bucket{method="POST",le="1"}'] == 1
    assert samples['nginx_access_request_duration_seconds_count{method="POST"}'] == 2


def test_central_log_program_counts_app_lines_by_host_and_level(tmp_path):
    samples = mtail_one_shot(
        tmp_path,
        "bookdesk_log.mtail",
        [
            app_line("app1", "bookdesk-web", "info", "request"),
            app_line("app1", "bookdesk-web", "error", "Internal Server Error: /x"),
            app_line("app1", "bookdesk-worker", "error", "send failed"),
            app_line("app2", "bookdesk-web", "warning", "slow query"),
            "2026-11-26T14:00:00+00:00 app1 sshd Accepted publickey for deploy",
        ],
    )
    assert samples == {
        'bookdesk_central_log_lines_total{host="app1",level="error"}': 2,
        'bookdesk_central_log_lines_total{host="app1",level="info"}': 1,
        'bookdesk_central_log_lines_total{host="app2",level="warning"}': 1,
    }


@pytest.mark.parametrize("name", ["rsyslog-forward.conf", "rsyslog-central.conf"])
def test_rsyslog_configs_pass_rsyslogs_own_check(tmp_path, name):
    rsyslogd = binary("rsyslogd")
    config = tmp_path / name
    config.write_text(render(f"logs/{name}.j2"))
    # The work directory normally comes from Debian's /etc/rsyslog.conf.
    main = tmp_path / "rsyslog.conf"
    main.write_text(f'global(workDirectory="{tmp_path}")\ninclude(file="{config}")\n')
    done = subprocess.run(
        [rsyslogd, "-N1", "-f", str(main)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in (done.stdout + done.stderr).lower()
