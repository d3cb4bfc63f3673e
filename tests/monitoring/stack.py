"""The monitoring stack on loopback for the live alerting test.

The configuration is generated from the real files in deploy/monitoring/ by a documented
transformation (see deploy/monitoring/README.md, "The live test"):

- rules: the same files, every `for:` and every range window `[...]` divided by
  TIME_FACTOR (60: an hour becomes a minute, 5 minutes become 5 seconds), at least 1s.
  Nothing else changes: expressions, thresholds, labels and annotations are the real ones.
- Prometheus: scrapes and evaluates every second; targets are the test's processes.
- nginx: a minimal test front (no TLS) with the real access log format, which the real
  mtail program reads; the readiness probe goes through it, as in production.
- Alertmanager: the real routes, inhibitions, receivers and templates; the SMTP smarthost is
  the test inbox (no auth, no TLS), webhooks go to a local recorder, and group_wait,
  group_interval and repeat_interval are a few seconds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import yaml

from tests.monitoring.rendering import ALERTMANAGER_TEMPLATE, render
from tests.monitoring.rules import MONITORING, rule_files

TIME_FACTOR = 60
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RANGE = re.compile(r"\[(\d+(?:ms|s|m|h|d|w))\]")


def shorten(duration: str, factor: int = TIME_FACTOR) -> str:
    found = _DURATION.match(duration)
    if not found:
        raise ValueError(f"not a simple duration: {duration!r}")
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    return f"{max(1, round(seconds / factor))}s"


def shorten_expr(expr: str, factor: int = TIME_FACTOR) -> str:
    return _RANGE.sub(lambda m: f"[{shorten(m.group(1), factor)}]", expr)


def shortened_rules(factor: int = TIME_FACTOR) -> dict[str, dict]:
    """file name -> rule file content with `for:` and range windows divided by factor."""
    out = {}
    for path in rule_files():
        content = yaml.safe_load(path.read_text())
        for group in content["groups"]:
            for rule in group["rules"]:
                rule["expr"] = shorten_expr(str(rule["expr"]), factor)
                if "for" in rule:
                    rule["for"] = shorten(rule["for"], factor)
        out[path.name] = content
    return out


def write_nginx_config(directory: Path, *, port: int, upstream: str) -> Path:
    """A minimal front for the app, logging in the real bookdesk_json format."""
    directory.mkdir(parents=True, exist_ok=True)
    temp = "\n".join(
        f"  {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    path = directory / "nginx.conf"
    path.write_text(
        f"""worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
  include {MONITORING / "nginx" / "log_format.conf"};
  access_log {directory / "access.log"} bookdesk_json;
{temp}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://{upstream};
      proxy_set_header Host $http_host;
      proxy_set_header X-Request-ID $request_id;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
    }}
  }}
}}
"""
    )
    (directory / "access.log").touch()
    return path


def write_prometheus_config(
    directory: Path,
    *,
    app: str,
    readyz_url: str,
    blackbox: str,
    alertmanager: str,
    mtail: str,
) -> Path:
    rules_dir = directory / "rules"
    rules_dir.mkdir(parents=True)
    for name, content in shortened_rules().items():
        (rules_dir / name).write_text(yaml.safe_dump(content, sort_keys=False))
    config = {
        "global": {
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "evaluation_interval": "1s",
            "external_labels": {"env": "test", "monitor": "bookdesk"},
        },
        "rule_files": [str(rules_dir / "*.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {"job_name": "bookdesk", "static_configs": [{"targets": [app]}]},
            {"job_name": "mtail", "static_configs": [{"targets": [mtail]}]},
            {
                "job_name": "blackbox-readyz",
                "metrics_path": "/probe",
                "params": {"module": ["http_readyz"]},
                "static_configs": [{"targets": [readyz_url]}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": blackbox},
                ],
            },
        ],
    }
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_alertmanager_config(directory: Path, *, smtp: str, webhook_base: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(render(ALERTMANAGER_TEMPLATE))
    smtp_global = config["global"]
    for key in [k for k in smtp_global if k.startswith("smtp_auth_")]:
        del smtp_global[key]
    smtp_global.update(smtp_smarthost=smtp, smtp_require_tls=False)
    config["templates"] = [
        str(MONITORING / "alertmanager" / pattern) for pattern in config.get("templates", [])
    ]

    def quick(route: dict) -> None:
        for key, value in (("group_wait", "1s"), ("group_interval", "2s")):
            if key in route or route is config["route"]:
                route[key] = value
        if "repeat_interval" in route:
            route["repeat_interval"] = "1m"
        for child in route.get("routes", []):
            quick(child)

    quick(config["route"])
    for receiver in config["receivers"]:
        for index, hook in enumerate(receiver.get("webhook_configs", [])):
            hook["url"] = f"{webhook_base}/{receiver['name']}/{index}"
            hook.pop("http_config", None)
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# --- processes ------------------------------------------------------------------------------


@dataclass
class Processes:
    """Started processes, stopped in reverse order by stop_all() (a test finalizer)."""

    running: list[tuple[str, subprocess.Popen, Path]] = field(default_factory=list)

    def start(self, name: str, command: list[str], log_dir: Path, **kwargs) -> subprocess.Popen:
        log = log_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kwargs)
        self.running.append((name, process, log))
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def stop_all(self) -> None:
        for _, process, _ in reversed(self.running):
            self.stop(process)

    def logs(self) -> str:
        parts = []
        for name, _, log in self.running:
            parts.append(f"--- {name} ---\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


def binary(name: str) -> str:
    # nginx and rsyslogd live in /usr/sbin, which a non-root PATH may lack.
    for path in (shutil.which(name), f"/usr/bin/{name}", f"/usr/sbin/{name}"):
        if path and Path(path).exists():
            return path
    raise RuntimeError(f"{name} is not installed (Debian package, see .ci/run)")


def wait_until(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def query(self, expr: str) -> list[dict]:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        answer.raise_for_status()
        return answer.json()["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


# --- a webhook receiver standing in for the chat bridge, the push gateway, the switch -------


class WebhookRecorder:
    def __init__(self, port: int):
        self.calls: list[tuple[str, dict]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.calls.append((self.path, json.loads(body or b"{}")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{port}"

    def alerts(self, path_prefix: str, alertname: str, status: str) -> list[dict]:
        return [
            payload
            for path, payload in list(self.calls)
            if path.startswith(path_prefix)
            and payload.get("status") == status
            and payload.get("commonLabels", {}).get("alertname") == alertname
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- log shipping -----------------------------------------------------------------------


def write_rsyslog_configs(directory: Path, *, port: int, app_log: Path, nginx_log: Path):
    """The real forwarder and central templates rendered for one machine: the central
    host on 127.0.0.1 and ``port``, files under ``directory``. The app's journal is stood in
    for by a file read with imfile under the journal's identifier (bookdesk-web).
    Returns (forward.conf, central.conf)."""
    directory.mkdir(parents=True, exist_ok=True)
    values = {
        "monitoring_log_host": "127.0.0.1",
        "monitoring_log_listen_address": "127.0.0.1",
        "monitoring_log_port": port,
        "monitoring_central_log_dir": str(directory / "central"),
        "monitoring_nginx_access_log": str(nginx_log),
    }
    out = []
    for role in ("central", "forward"):
        work = directory / f"{role}-work"
        work.mkdir()
        text = render(f"logs/rsyslog-{role}.conf.j2", **values)
        if role == "forward":
            text += (
                f'\ninput(type="imfile" File="{app_log}" Tag="bookdesk-web" '
                'Severity="info" Facility="daemon")\n'
            )
        path = directory / f"{role}.conf"
        path.write_text(f'global(workDirectory="{work}")\n{text}')
        out.append(path)
    central, forward = out
    return forward, central
