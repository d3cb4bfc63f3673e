"""The per-environment monitoring templates (deploy/monitoring/**/*.j2), rendered for tests.

Deployed hosts get these files from the Ansible monitoring role; the tests render the same
templates with deploy/monitoring/render.py (Jinja2 set up as Ansible's template module sets
it up) and the example values of a deployed production below, then check the results with
the real tools (promtool, amtool, rsyslogd).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from tests.monitoring.rules import MONITORING

_spec = importlib.util.spec_from_file_location("monitoring_render", MONITORING / "render.py")
render_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_module)

ALERTMANAGER_TEMPLATE = "alertmanager/alertmanager.yml.j2"
PROMETHEUS_TEMPLATE = "prometheus/prometheus.yml.j2"
TEMPLATES = sorted(str(p.relative_to(MONITORING)) for p in MONITORING.rglob("*.j2"))

# A deployed production with two app hosts, a database host and a balancer, as the role's
# defaults and an inventory would give them.
DEPLOYED = {
    "monitoring_environment": "production",
    "monitoring_site_url": "https://bookdesk.example.org",
    "monitoring_scrape_interval": "15s",
    "monitoring_scrape_timeout": "10s",
    "monitoring_evaluation_interval": "15s",
    "monitoring_app_metrics_token_file": "/etc/prometheus/secrets/bookdesk-metrics-token",
    "monitoring_scrape_targets": {
        "bookdesk": ["10.40.0.11:9180", "10.40.0.12:9180"],
        "node": ["10.40.0.11:9100", "10.40.0.12:9100", "10.40.0.10:9100", "10.40.100.5:9100"],
        "postgres": ["10.40.100.5:9187"],
        "nginx": ["10.40.0.11:9113", "10.40.0.12:9113", "10.40.0.10:9113"],
        "mtail": ["10.40.0.11:3903", "10.40.0.12:3903"],
    },
    "monitoring_secrets_dir": "/etc/prometheus/secrets",
    "monitoring_alert_smtp_smarthost": "smtp-relay.brevo.com:587",
    "monitoring_alert_smtp_require_tls": True,
    "monitoring_alert_smtp_username": "alerts@bookdesk.example.org",
    "monitoring_alert_smtp_password": "from-the-vault",
    "monitoring_alert_from": "Bookdesk alerts <alerts@bookdesk.example.org>",
    "monitoring_alert_ops_email": "ops@bookdesk.example.org",
    "monitoring_alert_oncall_email": "oncall@bookdesk.example.org",
    "monitoring_alert_chat_webhook_url": "http://127.0.0.1:9095/alertmanager",
    "monitoring_alert_push_url": "https://push.bookdesk.example.org/alertmanager/bookdesk-oncall",
    "monitoring_alert_push_token": "from-the-vault",
    "monitoring_alert_deadman_url": "https://deadman.bookdesk.example.org/ping/bookdesk-production",
    "monitoring_alert_deadman_token": "from-the-vault",
    "monitoring_log_host": "10.40.0.11",
    "monitoring_log_port": 10514,
    "monitoring_log_listen_address": "10.40.0.11",
    "monitoring_log_queue_max_disk": "1g",
    "monitoring_central_log_dir": "/var/log/bookdesk-central",
    "monitoring_nginx_access_log": "/var/log/nginx/bookdesk.access.log",
    "monitoring_listen_address": "10.40.0.11",
    "monitoring_app_metrics_port": 9180,
    "monitoring_scrapers": ["10.40.0.10"],
    "monitoring_app_upstream": "bookdesk_live",
    "monitoring_app_host_header": "bookdesk.example.org",
}


def render(template: str, **overrides) -> str:
    return render_module.render(template, {**DEPLOYED, **overrides})


def write_prometheus_yml(directory: Path, **overrides) -> Path:
    """prometheus.yml beside a copy of the real rules, as on the monitoring host."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(MONITORING / "prometheus" / "rules", directory / "rules", dirs_exist_ok=True)
    # promtool checks that a credentials file exists, as the role's validate step does.
    token = directory / "secrets" / "bookdesk-metrics-token"
    token.parent.mkdir(exist_ok=True)
    token.write_text("metrics-token\n")
    overrides.setdefault("monitoring_app_metrics_token_file", str(token))
    path = directory / "prometheus.yml"
    path.write_text(render(PROMETHEUS_TEMPLATE, **overrides))
    return path


def write_alertmanager_yml(directory: Path, **overrides) -> Path:
    """alertmanager.yml beside the real notification templates, as on the monitoring host."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        MONITORING / "alertmanager" / "templates", directory / "templates", dirs_exist_ok=True
    )
    path = directory / "alertmanager.yml"
    path.write_text(render(ALERTMANAGER_TEMPLATE, **overrides))
    return path
