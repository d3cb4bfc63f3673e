"""Reading deploy/monitoring/: the alert rules, their unit tests, and the runbooks."""

from __future__ import annotations

from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
MONITORING = PROJECT_DIR / "deploy" / "monitoring"
PROMETHEUS_DIR = MONITORING / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
ALERTMANAGER_YML = MONITORING / "alertmanager" / "alertmanager.yml"
RUNBOOKS_DIR = PROJECT_DIR / "docs" / "runbooks"


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def alert_rules() -> dict[str, dict]:
    """Every alerting rule by name (names are unique across the files)."""
    alerts: dict[str, dict] = {}
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in alerts, f"duplicate alert {rule['alert']}"
                    alerts[rule["alert"]] = rule
    return alerts


def rule_test_files() -> list[Path]:
    return sorted(RULE_TESTS_DIR.glob("*.test.yml"))


def unit_test_cases() -> dict[str, dict[str, list[str]]]:
    """alertname -> {"firing": [test names], "quiet": [test names]} over all rule tests."""
    cases: dict[str, dict[str, list[str]]] = {}
    for path in rule_test_files():
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                kind = "firing" if check.get("exp_alerts") else "quiet"
                entry = cases.setdefault(check["alertname"], {"firing": [], "quiet": []})
                entry[kind].append(test.get("name", path.name))
    return cases
