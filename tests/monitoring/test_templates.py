"""The per-environment monitoring files are templates: nothing about one environment is
written into them, every deployment value comes in as a variable, and the plain copies the
Compose stack mounts are the templates' current output."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.monitoring.rendering import (
    DEPLOYED,
    PROMETHEUS_TEMPLATE,
    TEMPLATES,
    render,
    render_module,
)
from tests.monitoring.stack import binary

pytestmark = pytest.mark.static


def staging_of_another_organisation() -> dict:
    """DEPLOYED with every environment name and domain changed."""

    def swap(value):
        if isinstance(value, str):
            return value.replace("example.org", "other.test").replace("production", "staging")
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(DEPLOYED)


def test_every_per_environment_file_is_a_template():
    assert TEMPLATES == [
        "alertmanager/alertmanager.yml.j2",
        "logs/rsyslog-central.conf.j2",
        "logs/rsyslog-forward.conf.j2",
        "nginx/metrics.conf.j2",
        "prometheus/prometheus.yml.j2",
    ]


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_hard_code_no_environment_or_domain(template):
    values = staging_of_another_organisation()
    text = render(template, **values)
    for word in ("production", "example.org", "bookdesk.internal"):
        assert word not in text, f"{template} writes {word!r} itself"


def test_prometheus_scrapes_every_host_given_and_probes_the_site():
    config = yaml.safe_load(render(PROMETHEUS_TEMPLATE))
    assert config["global"]["external_labels"]["env"] == "production"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job, targets in DEPLOYED["monitoring_scrape_targets"].items():
        assert jobs[job]["static_configs"] == [{"targets": targets}], job
    [probe] = jobs["blackbox-readyz"]["static_configs"]
    assert probe["targets"] == ["https://bookdesk.example.org/readyz"]
    authorization = jobs["bookdesk"]["authorization"]
    assert authorization["credentials_file"] == DEPLOYED["monitoring_app_metrics_token_file"]


def test_prometheus_leaves_out_exporters_an_environment_does_not_run():
    targets = {"bookdesk": ["127.0.0.1:9180"], "node": ["127.0.0.1:9100"]}
    config = yaml.safe_load(
        render(
            PROMETHEUS_TEMPLATE,
            monitoring_scrape_targets=targets,
            monitoring_app_metrics_token_file="",
        )
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert not {"postgres", "nginx", "mtail"} & set(jobs)
    assert "authorization" not in jobs["bookdesk"], "loopback needs no token"


def test_alertmanager_reads_only_the_secrets_it_was_given():
    without = yaml.safe_load(
        render(
            "alertmanager/alertmanager.yml.j2",
            monitoring_alert_smtp_password="",
            monitoring_alert_push_token="",
            monitoring_alert_deadman_token="",
        )
    )
    assert "smtp_auth_password_file" not in without["global"]
    text = yaml.safe_dump(without)
    assert "credentials_file" not in text
    with_secrets = render("alertmanager/alertmanager.yml.j2")
    for name in ("smtp-relay-password", "push-gateway-token", "deadmans-switch-token"):
        assert f"/etc/prometheus/secrets/{name}" in with_secrets
    assert "from-the-vault" not in with_secrets, "secrets go to files, never into the config"


def test_the_compose_copies_are_the_templates_current_output():
    assert render_module.main(["--check"]) == 0, "run: python deploy/monitoring/render.py"


def test_the_metrics_server_passes_nginx_check_and_admits_only_the_scrapers(tmp_path):
    server = tmp_path / "metrics.conf"
    server.write_text(
        render(
            "nginx/metrics.conf.j2",
            monitoring_listen_address="127.0.0.1",
            monitoring_scrapers=["127.0.0.1", "10.40.0.10"],
        )
    )
    assert server.read_text().count("allow ") == 2
    nginx_conf = tmp_path / "nginx.conf"
    nginx_conf.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\nhttp {\n  upstream bookdesk_live { server 127.0.0.1:8001; }\n"
        f"  include {server};\n}}\n"
    )
    done = subprocess.run(
        [binary("nginx"), "-t", "-c", str(nginx_conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
