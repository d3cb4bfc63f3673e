"""The ports monitoring uses between hosts are the ports the firewalls open, on both sides.

Log shipping (rsyslog over TCP to the central receiver) and Prometheus' scrapes cross from
one host to another once an environment has more than one. The Ansible monitoring role's
defaults say which ports; the Terraform network module's security groups and the local
environment's host firewall must admit exactly those, or logs and metrics silently stop at
the first scale-out. Before this test the log port had no rule at all.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.deploy.terraform_code import MODULES, ROOT, resource
from tests.monitoring.rendering import render

pytestmark = pytest.mark.static

ROLE = ROOT / "deploy" / "ansible" / "roles" / "monitoring"
LOCAL_INVENTORY = ROOT / "deploy/ansible/inventories/local/monitoring-and-backup.yml"
NETWORK = MODULES / "network"


def role_settings() -> dict:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    fixed = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    return {**defaults, **fixed}


def scrape_ports(settings: dict) -> set[int]:
    return set(settings["monitoring_ports"].values()) | {settings["monitoring_app_metrics_port"]}


def literal_ports(body: dict) -> set[int]:
    return {int(p) for p in re.findall(r'"(\d+)"', str(body["for_each"]))}


def test_the_forwarder_and_the_receiver_use_tcp_on_the_roles_port():
    port = role_settings()["monitoring_log_port"]
    forward = render("logs/rsyslog-forward.conf.j2", monitoring_log_port=port)
    central = render("logs/rsyslog-central.conf.j2", monitoring_log_port=port)
    assert re.search(rf'type="omfwd".*?port="{port}"\s+protocol="tcp"', forward, re.S)
    assert 'module(load="imtcp")' in central
    assert re.search(rf'input\(type="imtcp".*?port="{port}"', central, re.S)


def test_security_groups_let_the_app_hosts_ship_logs_to_the_monitoring_host():
    port = role_settings()["monitoring_log_port"]
    ingress = resource(NETWORK, "aws_vpc_security_group_ingress_rule", "logs_from_app").body
    egress = resource(NETWORK, "aws_vpc_security_group_egress_rule", "logs_to_balancer").body
    for rule in (ingress, egress):
        assert rule["ip_protocol"] == "tcp"
        assert rule["from_port"] == rule["to_port"] == port
    # Into the monitoring (balancer) host from the app hosts, and out of the app hosts to it.
    assert ingress["security_group_id"] == "${aws_security_group.balancer[0].id}"
    assert ingress["referenced_security_group_id"] == "${aws_security_group.app.id}"
    assert egress["security_group_id"] == "${aws_security_group.app.id}"
    assert egress["referenced_security_group_id"] == "${aws_security_group.balancer[0].id}"


def test_security_groups_let_prometheus_scrape_every_exporter_and_nothing_else():
    wanted = scrape_ports(role_settings())
    ingress = resource(NETWORK, "aws_vpc_security_group_ingress_rule", "app_scrape_from_balancer")
    egress = resource(NETWORK, "aws_vpc_security_group_egress_rule", "balancer_scrape_app")
    assert literal_ports(ingress.body) == wanted
    assert literal_ports(egress.body) == wanted
    assert ingress.body["referenced_security_group_id"] == "${aws_security_group.balancer[0].id}"
    assert egress.body["referenced_security_group_id"] == "${aws_security_group.app.id}"


def firewall_ports(group: str) -> set[int]:
    inventory = yaml.safe_load(LOCAL_INVENTORY.read_text())
    group_vars = inventory["all"]["children"][group]["vars"]
    [(name, rules)] = [(k, v) for k, v in group_vars.items() if k.startswith("base_firewall_")]
    assert name.startswith("base_firewall_rules_"), "the base role adds base_firewall_rules_*"
    assert all(rule.get("proto", "tcp") == "tcp" for rule in rules)
    return {rule["port"] for rule in rules}


def test_the_local_environments_host_firewalls_admit_the_same_ports():
    settings = role_settings()
    log_port = settings["monitoring_log_port"]
    ports = settings["monitoring_ports"]
    # An app host is scraped, and is the monitoring host of a single-host environment.
    app_ports = {
        ports["node"],
        ports["nginx"],
        ports["mtail"],
        settings["monitoring_app_metrics_port"],
    }
    assert firewall_ports("bookdesk_app") == app_ports | {log_port}
    assert firewall_ports("bookdesk_balancer") == {ports["node"], ports["nginx"], log_port}
    assert firewall_ports("bookdesk_database") == {ports["node"], ports["postgres"]}
