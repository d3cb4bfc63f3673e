"""Proven live: application log lines travel from a host's log to the central log host
with the real rsyslog configs, mtail there counts their levels, and the ErrorLogSpike rule
fires from those counts.

Two rsyslogd processes on loopback (the forwarder of an app host and the central receiver),
mtail with the real bookdesk_log.mtail, and Prometheus with the real (time-shortened) rules.
The app's journal is stood in for by a file the forwarder reads under the same identifier
(no journald here); the lines written to it are shaped exactly like the app's JSON lines.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import free_port
from tests.monitoring.rules import MONITORING
from tests.monitoring.stack import (
    Processes,
    Prometheus,
    binary,
    wait_until,
    write_prometheus_config,
    write_rsyslog_configs,
)

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]


def app_line(level: str, message: str) -> str:
    # Key order and spacing as the app's JSON renderer writes them.
    return json.dumps(
        {
            "path": "/bookings/",
            "request_id": "5f2c0e4a9b7d41c3",
            "level": level,
            "logger": "bookdesk.request",
            "timestamp": "2026-11-26T14:00:00.000000Z",
            "message": message,
        }
    )


def append(path, lines: list[str]) -> None:
    with path.open("a") as log:
        log.write("".join(f"{line}\n" for line in lines))


@pytest.fixture
def shipping(tmp_path, request):
    procs = Processes()
    request.addfinalizer(procs.stop_all)
    request.addfinalizer(lambda: print(procs.logs()))
    app_log, nginx_log = tmp_path / "app.log", tmp_path / "access.log"
    app_log.touch()
    nginx_log.touch()
    port, mtail_port, prom_port = free_port(), free_port(), free_port()
    forward, central = write_rsyslog_configs(
        tmp_path / "rsyslog", port=port, app_log=app_log, nginx_log=nginx_log
    )
    rsyslogd = binary("rsyslogd")
    for name, config in (("rsyslog-central", central), ("rsyslog-forward", forward)):
        procs.start(
            name,
            [rsyslogd, "-n", "-f", str(config), "-i", str(tmp_path / f"{name}.pid")],
            tmp_path,
        )
    central_dir = tmp_path / "rsyslog" / "central"
    procs.start(
        "mtail",
        [
            binary("mtail"),
            "--progs",
            str(MONITORING / "mtail"),
            "--logs",
            f"{central_dir}/*/*.log",
            "--address",
            "127.0.0.1",
            "--port",
            str(mtail_port),
            "--logtostderr",
        ],
        tmp_path,
    )
    prom_config = write_prometheus_config(
        tmp_path / "prom",
        app="127.0.0.1:1",
        readyz_url="http://127.0.0.1:1/readyz",
        blackbox="127.0.0.1:1",
        alertmanager="127.0.0.1:1",
        mtail=f"127.0.0.1:{mtail_port}",
    )
    procs.start(
        "prometheus",
        [
            binary("prometheus"),
            f"--config.file={prom_config}",
            f"--storage.tsdb.path={tmp_path / 'prom' / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        tmp_path,
    )
    return app_log, nginx_log, central_dir, Prometheus(f"http://127.0.0.1:{prom_port}")


def test_error_lines_reach_the_central_host_and_fire_the_error_spike_alert(shipping):
    app_log, nginx_log, central_dir, prometheus = shipping
    append(app_log, [app_line("info", "request"), app_line("error", "first failure")])
    append(nginx_log, ['{"time":"2026-11-26T14:00:00+00:00","status":200}'])

    # The lines arrive centrally, one file per host and program, JSON intact.
    shipped = wait_until(
        lambda: sorted(central_dir.glob("*/bookdesk-web.log")),
        timeout=30,
        what="the central log file for bookdesk-web",
    )[0]
    host = shipped.parent.name
    wait_until(lambda: shipped.read_text().count("\n") >= 2, timeout=30, what="both lines")
    first = shipped.read_text().splitlines()[0]
    _time, line_host, program, message = first.split(" ", 3)
    assert (line_host, program) == (host, "bookdesk-web")
    assert json.loads(message)["message"] == "request"
    wait_until(
        lambda: (central_dir / host / "nginx-access.log").exists(),
        timeout=30,
        what="nginx's access log to be shipped too",
    )

    # mtail counts them by host and level; Prometheus has the series. (mtail starts reading
    # a file that appears while it runs from where it finds it: keep logging until it does.)
    errors = f'bookdesk_central_log_lines_total{{host="{host}", level="error"}}'

    def counted():
        append(app_log, [app_line("error", "while mtail finds the file")])
        return prometheus.value(errors)

    wait_until(counted, timeout=30, interval=0.5, what="mtail's error count in Prometheus")
    assert not prometheus.query('ALERTS{alertname="ErrorLogSpike", alertstate="firing"}')
    time.sleep(2)  # the last of those lines counted, so the base below is settled
    base = prometheus.value(errors)

    # A burst of errors: ErrorLogSpike fires for that host, from the shipped lines.
    append(app_log, [app_line("error", f"failure {n}") for n in range(30)])
    started = time.monotonic()
    alert = wait_until(
        lambda: prometheus.query('ALERTS{alertname="ErrorLogSpike", alertstate="firing"}'),
        timeout=60,
        what="ErrorLogSpike to fire",
    )[0]
    elapsed = time.monotonic() - started
    assert alert["metric"]["host"] == host
    assert alert["metric"]["severity"] == "warning"
    assert prometheus.value(errors) == base + 30
    print(f"\nlog shipping: error burst written -> ErrorLogSpike firing in {elapsed:.1f}s")
