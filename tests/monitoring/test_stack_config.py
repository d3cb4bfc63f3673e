"""The live test's configuration is the real one with shorter times, and nothing else."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.monitoring.rendering import ALERTMANAGER_TEMPLATE, render
from tests.monitoring.rules import RULES_DIR
from tests.monitoring.stack import (
    _RANGE,
    shorten,
    shortened_rules,
    write_alertmanager_config,
    write_prometheus_config,
)

pytestmark = pytest.mark.static


def without_times(content: dict) -> dict:
    for group in content["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
            rule["expr"] = _RANGE.sub("[T]", " ".join(str(rule["expr"]).split()))
    return content


def test_shortening_divides_by_sixty_and_keeps_at_least_a_second():
    assert shorten("6h") == "360s"
    assert shorten("5m") == "5s"
    assert shorten("30s") == "1s"
    with pytest.raises(ValueError):
        shorten("1h30m")


def test_the_test_rules_differ_from_the_real_rules_only_in_durations():
    shortened = shortened_rules()
    assert set(shortened) == {p.name for p in RULES_DIR.glob("*.yml")}
    for name, content in shortened.items():
        real = yaml.safe_load((RULES_DIR / name).read_text())
        assert without_times(content) == without_times(real), name
    site_down = next(
        rule
        for rule in shortened_rules()["availability.yml"]["groups"][0]["rules"]
        if rule.get("alert") == "SiteDown"
    )
    assert site_down["for"] == "2s"


def test_the_generated_test_configs_are_valid(tmp_path):
    prometheus = write_prometheus_config(
        tmp_path / "prom",
        app="127.0.0.1:1",
        readyz_url="http://127.0.0.1:1/readyz",
        blackbox="127.0.0.1:2",
        alertmanager="127.0.0.1:3",
        mtail="127.0.0.1:6",
    )
    done = subprocess.run(
        ["promtool", "check", "config", str(prometheus)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    alertmanager = write_alertmanager_config(
        tmp_path / "am", smtp="127.0.0.1:4", webhook_base="http://127.0.0.1:5"
    )
    done = subprocess.run(
        ["amtool", "check-config", str(alertmanager)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    test_config, real = (
        yaml.safe_load(alertmanager.read_text()),
        yaml.safe_load(render(ALERTMANAGER_TEMPLATE)),
    )
    # Same routing tree and inhibitions; the receivers point at the test's servers.
    assert test_config["inhibit_rules"] == real["inhibit_rules"]
    assert [r["matchers"] for r in test_config["route"]["routes"]] == [
        r["matchers"] for r in real["route"]["routes"]
    ]
    assert [r["name"] for r in test_config["receivers"]] == [r["name"] for r in real["receivers"]]
