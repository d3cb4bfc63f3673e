"""Dashboards and alert rules only name metrics that something really exports."""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.monitoring.promql import metric_names
from tests.monitoring.rules import MONITORING, rule_files

GRAFANA = MONITORING / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))

# Metrics of the exporters we run, as they name them (and which version's docs say so).
EXPORTER_METRICS = {
    # Prometheus itself, for every target.
    "up",
    # node_exporter (filesystem, cpu, meminfo collectors; enabled by default).
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_readonly",
    "node_cpu_seconds_total",
    "node_memory_MemAvailable_bytes",
    # postgres_exporter (its default queries).
    "pg_up",
    "pg_stat_activity_count",
    "pg_stat_database_xact_commit",
    # nginx-prometheus-exporter reading stub_status.
    "nginx_connections_active",
    "nginx_http_requests_total",
    # blackbox_exporter's probe results.
    "probe_success",
    "probe_duration_seconds",
    "probe_ssl_earliest_cert_expiry",
}
APP_PREFIXES = ("bookdesk_", "django_")


def dashboard_exprs() -> list[tuple[str, str]]:
    exprs = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                exprs.append((f"{path.name}: {panel['title']}", target["expr"]))
    return exprs


def rule_exprs() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(recorded name -> expr, [(alert name, expr)])."""
    recorded, alerts = {}, []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    recorded[rule["record"]] = rule["expr"]
                else:
                    alerts.append((rule["alert"], rule["expr"]))
    return recorded, alerts


def raw_metrics(expr: str, recorded: dict[str, str]) -> set[str]:
    """The exported metric names behind expr, looking through recording rules."""
    out = set()
    for name in metric_names(expr):
        if ":" in name:
            assert name in recorded, f"{name} is not recorded by any rule"
            out |= raw_metrics(recorded[name], recorded)
        else:
            out.add(name)
    return out


def mtail_metrics() -> set[str]:
    names = set()
    for program in (MONITORING / "mtail").glob("*.mtail"):
        for kind, name in re.findall(
            r"^(counter|gauge|histogram)\s+(\w+)", program.read_text(), re.M
        ):
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            else:
                names.add(name)
    return names


@cache
def backup_metrics() -> set[str]:
    """What bookdesk-backup (the backup role's tool) writes for node_exporter's textfile
    collector, from its own writer run on a sample result."""
    from tests.deploy.test_backup import backup

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "set").mkdir()
        status = {"duration": 1.0, "ok": True, "last_success": 1.0, "detail": {}}
        (root / "set" / "status.json").write_text(
            json.dumps({"run": {**status, "detail": {"bytes": {"db": 1}}}, "drill": status})
        )
        config = {"name": "sample", "backup_dir": root / "set", "textfile_dir": root / "out"}
        text = backup.write_metrics(config).read_text()
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def from_the_app(name: str) -> bool:
    # mtail's counts of the shipped logs and the backup tool's results carry the bookdesk_
    # prefix but come from mtail and node_exporter.
    return name.startswith(APP_PREFIXES) and name not in mtail_metrics() | backup_metrics()


def used_metrics() -> dict[str, set[str]]:
    """metric name -> where it is used (dashboard panels and alert rules)."""
    recorded, alerts = rule_exprs()
    used: dict[str, set[str]] = {}
    for where, expr in [*dashboard_exprs(), *alerts]:
        for name in raw_metrics(expr, recorded):
            used.setdefault(name, set()).add(where)
    return used


@pytest.mark.static
def test_the_committed_dashboard_is_what_the_generator_makes():
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (GRAFANA / "dashboards" / "bookdesk.json").read_text() == module.render(), (
        "run python3 deploy/monitoring/grafana/generate.py and commit the JSON"
    )


@pytest.mark.static
def test_the_dashboard_covers_what_operators_look_at():
    rows = [
        p["title"]
        for path in DASHBOARDS
        for p in json.loads(path.read_text())["panels"]
        if p["type"] == "row"
    ]
    for topic in ("Traffic", "Errors", "Latency", "Sign-in", "Outbox", "Database", "Uploads"):
        assert any(topic in row for row in rows), f"no dashboard row about {topic}"
    exprs = " ".join(expr for _, expr in dashboard_exprs())
    assert "p50" in exprs and "p95" in exprs


@pytest.mark.static
def test_exporter_and_mtail_metrics_in_use_are_real():
    known = EXPORTER_METRICS | mtail_metrics() | backup_metrics()
    for name, places in used_metrics().items():
        if not from_the_app(name):
            assert name in known, f"{name} (used in {sorted(places)}) is exported by nothing"


def exported_by_the_app(text: str) -> set[str]:
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif kind == "counter" and not name.endswith("_total"):
            names.add(f"{name}_total")
        else:
            names.add(name)
    # Samples too: a family can be exposed under its sample names only.
    names |= set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )", text, re.M))
    return names


@pytest.mark.django_db
def test_app_metrics_in_use_are_served_by_the_apps_metrics_page(client):
    # A request first, so the per-view HTTP metrics exist.
    client.get("/api/v1/openapi.json")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    exported = exported_by_the_app(
        b"".join(response).decode() if response.streaming else response.content.decode()
    )
    app_used = {name: places for name, places in used_metrics().items() if from_the_app(name)}
    assert len(app_used) >= 10
    missing = {name: sorted(places) for name, places in app_used.items() if name not in exported}
    assert not missing, f"not on the app's /metrics: {missing}"
