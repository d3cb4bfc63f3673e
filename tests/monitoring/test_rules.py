"""The monitoring configuration is valid, every alert is tested both ways, and documented."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.monitoring.rendering import write_alertmanager_yml, write_prometheus_yml
from tests.monitoring.rules import (
    MONITORING,
    RULE_TESTS_DIR,
    RUNBOOKS_DIR,
    alert_rules,
    rule_files,
    rule_test_files,
    unit_test_cases,
)

pytestmark = pytest.mark.static

SEVERITIES = {"critical", "warning"}
# Watchdog fires by design all the time: there is no input under which it stays quiet.
ALWAYS_FIRING = {"Watchdog"}


def run(*command: str, cwd=None) -> str:
    binary = shutil.which(command[0])
    assert binary, f"{command[0]} is not installed (Debian package listed in .ci/run)"
    done = subprocess.run(
        [binary, *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def alertmanager_yml(tmp_path_factory):
    """The Alertmanager config as the role renders it for a deployed production."""
    return write_alertmanager_yml(tmp_path_factory.mktemp("alertmanager"))


def test_prometheus_config_is_valid(tmp_path):
    run("promtool", "check", "config", str(write_prometheus_yml(tmp_path)))


def test_rule_files_are_valid():
    run("promtool", "check", "rules", *map(str, rule_files()))


def test_rule_unit_tests_pass():
    output = run(
        "promtool", "test", "rules", *(p.name for p in rule_test_files()), cwd=RULE_TESTS_DIR
    )
    assert "FAILED" not in output


def test_alertmanager_config_is_valid(alertmanager_yml):
    output = run("amtool", "check-config", str(alertmanager_yml))
    assert "1 templates" in output, "the notification templates were not found"


def test_blackbox_config_is_valid():
    run(
        "prometheus-blackbox-exporter",
        "--config.check",
        f"--config.file={MONITORING / 'blackbox' / 'blackbox.yml'}",
    )


def test_every_alert_has_a_severity_summary_description_and_runbook():
    alerts = alert_rules()
    assert len(alerts) >= 15
    for name, rule in alerts.items():
        severity = rule.get("labels", {}).get("severity")
        if name in ALWAYS_FIRING:
            assert severity == "none", name
        else:
            assert severity in SEVERITIES, f"{name}: severity {severity!r}"
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert annotations.get(key, "").strip(), f"{name} has no {key}"
        assert annotations["runbook_url"].endswith(f"/docs/runbooks/{name}.md"), name
        assert (RUNBOOKS_DIR / f"{name}.md").is_file(), f"no runbook docs/runbooks/{name}.md"


def test_every_runbook_says_what_to_do():
    for name in alert_rules():
        text = (RUNBOOKS_DIR / f"{name}.md").read_text()
        assert text.startswith(f"# {name}"), name
        for heading in ("## What it means", "## Impact", "## How to check", "## What to do"):
            assert heading in text, f"{name}.md lacks {heading!r}"
        assert "## When to escalate" in text or name in ALWAYS_FIRING, name


def test_the_runbook_index_lists_every_alert():
    index = (RUNBOOKS_DIR / "README.md").read_text()
    for name in alert_rules():
        assert f"({name}.md)" in index, f"{name} missing from docs/runbooks/README.md"


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    cases = unit_test_cases()
    for name in alert_rules():
        assert cases.get(name, {}).get("firing"), f"no promtool test where {name} fires"
        if name not in ALWAYS_FIRING:
            assert cases[name]["quiet"], f"no promtool test where {name} stays quiet"
    unknown = set(cases) - set(alert_rules())
    assert not unknown, f"rule tests name alerts that do not exist: {unknown}"


def test_inhibitions_and_routes_name_real_alerts(alertmanager_yml):
    config = yaml.safe_load(alertmanager_yml.read_text())
    names = set(alert_rules())
    matchers = [m for rule in config["inhibit_rules"] for m in rule["source_matchers"]]
    matchers += [m for rule in config["inhibit_rules"] for m in rule["target_matchers"]]
    matchers += [m for route in config["route"]["routes"] for m in route["matchers"]]
    for matcher in matchers:
        found = re.fullmatch(r'alertname(=~|=)"(.+)"', matcher)
        if found:
            for name in found.group(2).split("|"):
                assert name in names, f"alertmanager.yml names unknown alert {name}"


def test_site_down_silences_what_it_causes(alertmanager_yml):
    config = yaml.safe_load(alertmanager_yml.read_text())
    rule = next(
        r for r in config["inhibit_rules"] if r["source_matchers"] == ['alertname="SiteDown"']
    )
    silenced = re.search(r'alertname=~"(.+)"', rule["target_matchers"][0]).group(1).split("|")
    assert {"TargetDown", "ErrorBudgetBurnFast", "Sustained5xx"} <= set(silenced)
    assert "SiteDown" not in silenced


def test_critical_alerts_reach_a_second_channel_without_the_smtp_relay(alertmanager_yml):
    config = yaml.safe_load(alertmanager_yml.read_text())
    route = next(r for r in config["route"]["routes"] if r["matchers"] == ['severity="critical"'])
    receiver = next(r for r in config["receivers"] if r["name"] == route["receiver"])
    assert receiver["email_configs"], "critical alerts are emailed"
    assert any(w["url"].startswith("https://") for w in receiver["webhook_configs"])
    # Secrets come from files.
    text = alertmanager_yml.read_text()
    assert "smtp_auth_password_file:" in text
    assert not re.search(r"smtp_auth_password:\s", text)


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=SiteDown", "severity=critical"], "oncall-page"),
        (["alertname=OtpEmailSendFailures", "severity=critical"], "oncall-page"),
        (["alertname=TargetDown", "severity=warning"], "ops-email"),
        (["alertname=Watchdog", "severity=none"], "deadmans-switch"),
        # An alert someone forgot to give a severity still reaches a person.
        (["alertname=Unlabelled"], "ops-email"),
    ],
)
def test_alerts_are_routed_by_severity(alertmanager_yml, labels, receiver):
    run(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={alertmanager_yml}",
        f"--verify.receivers={receiver}",
        *labels,
    )


def test_every_alerts_severity_routes_to_a_person_or_the_switch(alertmanager_yml):
    for name, rule in alert_rules().items():
        labels = [f"alertname={name}", f"severity={rule['labels']['severity']}"]
        expected = "deadmans-switch" if name in ALWAYS_FIRING else None
        output = run(
            "amtool", "config", "routes", "test", f"--config.file={alertmanager_yml}", *labels
        )
        receiver = output.split()[0]
        if expected:
            assert receiver == expected, name
        else:
            want = "oncall-page" if rule["labels"]["severity"] == "critical" else "ops-email"
            assert receiver == want, f"{name} goes to {receiver}"
