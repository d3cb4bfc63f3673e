#!/usr/bin/env python3
# ruff: noqa: E501 - a PromQL query reads best on one line
"""Generate Bookdesk's Grafana dashboard (dashboards/bookdesk.json) from the panel list here.

Run `python3 deploy/monitoring/grafana/generate.py` after editing and commit the JSON too;
tests/monitoring/test_dashboards.py checks the two agree and that every query names a
metric the app or an exporter really exports. Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards" / "bookdesk.json"
DS = {"type": "prometheus", "uid": "${datasource}"}

# (row title, [(panel title, unit, [(legend, expr)], kind)])
ROWS = [
    (
        "Traffic",
        [
            (
                "Requests at nginx by status",
                "reqps",
                [("{{status}}", "sum by (status) (rate(nginx_access_requests_total[5m]))")],
                "timeseries",
            ),
            (
                "App requests by view",
                "reqps",
                [
                    (
                        "{{view}}",
                        'sum by (view) (rate(django_http_requests_total_by_view_transport_method_total{view!="ops:metrics"}[5m]))',
                    )
                ],
                "timeseries",
            ),
            (
                "nginx connections",
                "short",
                [
                    ("active", "sum(nginx_connections_active)"),
                    ("requests/s", "sum(rate(nginx_http_requests_total[5m]))"),
                ],
                "timeseries",
            ),
            (
                "Site up (readiness probe)",
                "none",
                [("{{instance}}", 'probe_success{job="blackbox-readyz"}')],
                "stat",
            ),
            (
                "TLS certificate days left",
                "d",
                [
                    (
                        "{{instance}}",
                        '(probe_ssl_earliest_cert_expiry{job="blackbox-readyz"} - time()) / 86400',
                    )
                ],
                "stat",
            ),
        ],
    ),
    (
        "Errors",
        [
            (
                "5xx share at nginx (SLO 99.9%)",
                "percentunit",
                [
                    ("5m", "sli:bookdesk_edge_error_ratio:rate5m"),
                    ("1h", "sli:bookdesk_edge_error_ratio:rate1h"),
                    ("6h", "sli:bookdesk_edge_error_ratio:rate6h"),
                ],
                "timeseries",
            ),
            (
                "Error budget left this month",
                "percentunit",
                [
                    (
                        "budget left",
                        '1 - (sum(increase(nginx_access_requests_total{status=~"5.."}[30d])) / sum(increase(nginx_access_requests_total[30d]))) / 0.001',
                    )
                ],
                "stat",
            ),
            (
                "App 5xx and 4xx share",
                "percentunit",
                [
                    ("5xx (5m)", "job:bookdesk_http_5xx:ratio_rate5m"),
                    ("4xx (30m)", "job:bookdesk_http_4xx:ratio_rate30m"),
                ],
                "timeseries",
            ),
            (
                "Error log lines",
                "short",
                [
                    (
                        "{{host}} {{level}} (shipped logs)",
                        'sum by (host, level) (increase(bookdesk_central_log_lines_total{level=~"error|critical"}[5m]))',
                    ),
                    (
                        "{{level}} (app count)",
                        'sum by (level) (increase(bookdesk_log_events_total{level=~"error|critical"}[5m]))',
                    ),
                ],
                "timeseries",
            ),
        ],
    ),
    (
        "Latency",
        [
            (
                "App latency p50 / p95",
                "s",
                [
                    ("p50", "job:bookdesk_http_latency_seconds:p50_5m"),
                    ("p95", "job:bookdesk_http_latency_seconds:p95_5m"),
                ],
                "timeseries",
            ),
            (
                "p95 by view",
                "s",
                [
                    (
                        "{{view}}",
                        'histogram_quantile(0.95, sum by (view, le) (rate(django_http_requests_latency_seconds_by_view_method_bucket{view!="ops:metrics"}[5m])))',
                    )
                ],
                "timeseries",
            ),
            (
                "Latency at nginx p50 / p95",
                "s",
                [
                    (
                        "p50",
                        "histogram_quantile(0.50, sum by (le) (rate(nginx_access_request_duration_seconds_bucket[5m])))",
                    ),
                    (
                        "p95",
                        "histogram_quantile(0.95, sum by (le) (rate(nginx_access_request_duration_seconds_bucket[5m])))",
                    ),
                ],
                "timeseries",
            ),
            (
                "Readiness probe duration",
                "s",
                [("{{instance}}", 'probe_duration_seconds{job="blackbox-readyz"}')],
                "timeseries",
            ),
        ],
    ),
    (
        "Sign-in and code emails",
        [
            (
                "Failed sign-in steps",
                "short",
                [("{{stage}}", "sum by (stage) (increase(bookdesk_auth_failures_total[5m]))")],
                "timeseries",
            ),
            (
                "Lockouts",
                "short",
                [("lockouts", "sum(increase(bookdesk_auth_lockouts_total[5m]))")],
                "timeseries",
            ),
            (
                "Sign-in code emails",
                "short",
                [("{{result}}", "sum by (result) (increase(bookdesk_otp_emails_total[5m]))")],
                "timeseries",
            ),
        ],
    ),
    (
        "Outbox and notifications",
        [
            (
                "Emails waiting",
                "short",
                [("pending", "max(bookdesk_outbox_pending)")],
                "timeseries",
            ),
            (
                "Oldest waiting email",
                "s",
                [("age", "max(bookdesk_outbox_oldest_age_seconds)")],
                "timeseries",
            ),
            (
                "Notification emails",
                "short",
                [
                    (
                        "{{kind}} {{result}}",
                        "sum by (kind, result) (increase(bookdesk_emails_total[5m]))",
                    )
                ],
                "timeseries",
            ),
            (
                "Booking actions",
                "short",
                [("{{action}}", "sum by (action) (increase(bookdesk_bookings_total[1h]))")],
                "timeseries",
            ),
        ],
    ),
    (
        "Database",
        [
            ("PostgreSQL up", "none", [("{{instance}}", "pg_up")], "stat"),
            (
                "Connections by state",
                "short",
                [("{{state}}", "sum by (state) (pg_stat_activity_count)")],
                "timeseries",
            ),
            (
                "App database errors and slow queries",
                "short",
                [
                    ("errors", "sum(increase(bookdesk_db_errors_total[5m]))"),
                    ("slow queries", "sum(increase(bookdesk_db_slow_queries_total[5m]))"),
                ],
                "timeseries",
            ),
            (
                "Transactions per second",
                "ops",
                [
                    (
                        "{{datname}}",
                        'sum by (datname) (rate(pg_stat_database_xact_commit{datname!~"template.*"}[5m]))',
                    )
                ],
                "timeseries",
            ),
        ],
    ),
    (
        "Uploads disk and host",
        [
            (
                "Uploads storage",
                "bytes",
                [
                    ("free", "min(bookdesk_uploads_free_bytes)"),
                    ("used by uploads", "max(bookdesk_uploads_used_bytes)"),
                    (
                        "free in 24h (6h trend)",
                        "min(predict_linear(bookdesk_uploads_free_bytes[6h], 86400))",
                    ),
                ],
                "timeseries",
            ),
            (
                "Filesystems used",
                "percentunit",
                [
                    (
                        "{{instance}} {{mountpoint}}",
                        '1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay"}',
                    )
                ],
                "timeseries",
            ),
            (
                "CPU busy",
                "percentunit",
                [
                    (
                        "{{instance}}",
                        '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
                    )
                ],
                "timeseries",
            ),
            (
                "Memory available",
                "bytes",
                [("{{instance}}", "node_memory_MemAvailable_bytes")],
                "timeseries",
            ),
        ],
    ),
]


def panel(panel_id: int, title: str, unit: str, targets, kind: str, x: int, y: int, w: int):
    return {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
        if kind == "timeseries"
        else {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DS}
            for i, (legend, expr) in enumerate(targets)
        ],
    }


def dashboard() -> dict:
    panels, panel_id, y = [], 1, 0
    for row_title, row_panels in ROWS:
        panels.append(
            {
                "id": panel_id,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                "panels": [],
            }
        )
        panel_id += 1
        y += 1
        width = 24 // len(row_panels)
        for index, (title, unit, targets, kind) in enumerate(row_panels):
            panels.append(panel(panel_id, title, unit, targets, kind, index * width, y, width))
            panel_id += 1
        y += 8
    return {
        "uid": "bookdesk-overview",
        "title": "Bookdesk",
        "tags": ["bookdesk"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    print(f"wrote {OUT}")
