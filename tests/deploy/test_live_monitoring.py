"""Monitoring and backups, proven on the local environment (make monitoring-test).

The environment (deploy/env/localenv.py) is brought up for this module on its own
addresses and directory and removed at the end, as the deploy test does. The monitoring
role runs there as on real hosts, with one difference: the alert rules are the real ones
with every `for:` and range window divided by 60 (tests/monitoring/stack.py, as in the
loopback alerting test) and Prometheus scrapes and evaluates every second, so an alert that
takes two minutes in production takes two seconds here. The tests run in file order:

1. production's monitoring host (the balancer) scrapes every exporter of every production
   host and the shared database host, and its readiness probe passes through the balancer;
2. the app hosts' logs arrive on it, one file per host and program;
3. one app host's web stops: TargetDown fires for that host only and the site stays up
   (the balancer serves from the other); both stop: SiteDown fires and Alertmanager mails
   the on-call address through the SMTP sink; both start again: the alerts resolve;
4. a backup is taken and the restore drill restores it into a scratch database with equal
   row counts (both environments' databases and production's uploads), and Prometheus sees
   the drill's result;
5. a second run of the monitoring and backup playbooks changes nothing.

Not part of `make test` (marker localenv): it needs root and a few minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.monitoring.stack import shortened_rules

pytestmark = pytest.mark.localenv

REPO = Path(__file__).resolve().parents[2]
ENV = {
    "BOOKDESK_ENV_ID": os.environ.get("MONITORING_TEST_ENV_ID", "bkm"),
    "BOOKDESK_ENV_NET": os.environ.get("MONITORING_TEST_ENV_NET", "10.77.8"),
    "BOOKDESK_ENV_DIR": str(REPO / "var" / "env-monitoring-test"),
    "BOOKDESK_DEPLOY_ACTOR": "monitoring-test",
}
LOCALENV = [str(REPO / ".venv-ansible" / "bin" / "python"), str(REPO / "deploy/env/localenv.py")]
MONITORING_HOST = "prod-lb"
APP_HOSTS = ["prod-app1", "prod-app2"]


def environ() -> dict[str, str]:
    return {**os.environ, **ENV}


def run(cmd: list[str], *, check: bool = True, timeout: float = 1800):
    started = time.monotonic()
    result = subprocess.run(
        cmd, cwd=REPO, env=environ(), capture_output=True, text=True, timeout=timeout, check=False
    )
    result.seconds = round(time.monotonic() - started, 1)
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {result.returncode}\n"
            f"{result.stdout[-5000:]}\n{result.stderr[-2000:]}"
        )
    return result


def on_host(host: str, *command: str, check: bool = True) -> str:
    return run([*LOCALENV, "exec", host, "--", *command], check=check).stdout


def recap(output: str) -> dict[str, dict[str, int]]:
    found = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line.strip())
        if match:
            found[match.group(1)] = {
                k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return found


def wait_until(predicate, *, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Monitoring:
    """The environment, and Prometheus on its production monitoring host."""

    def __init__(self, config_dir: Path, extra_vars: list[str]):
        self.config_dir = config_dir
        self.extra_vars = extra_vars
        self.url = ""
        self.cacert = ""
        self.figures: dict[str, float] = {}

    def playbook(self, name: str, *args: str, check: bool = True):
        return run([*LOCALENV, "playbook", name, *self.extra_vars, *args], check=check)

    def query(self, expr: str) -> list[dict]:
        out = on_host(
            MONITORING_HOST,
            "curl", "-sf", "-G", "--data-urlencode", f"query={expr}",
            "http://127.0.0.1:9090/api/v1/query",
        )  # fmt: skip
        return json.loads(out)["data"]["result"]

    def firing(self, alertname: str) -> list[dict]:
        return [
            r["metric"]
            for r in self.query(f'ALERTS{{alertname="{alertname}", alertstate="firing"}}')
        ]

    def live_colour(self, host: str) -> str:
        state = on_host(host, "/usr/local/libexec/bookdesk/bookdesk-deployctl", "state")
        return json.loads(state)["live"]

    def address(self, host: str) -> str:
        hosts = yaml.safe_load((REPO / "deploy/ansible/inventories/local/hosts.yml").read_text())
        for group in hosts["all"]["children"].values():
            if host in (group.get("hosts") or {}) and (group["hosts"][host] or {}).get(
                "bookdesk_local_octet"
            ):
                return f"{ENV['BOOKDESK_ENV_NET']}.{group['hosts'][host]['bookdesk_local_octet']}"
        raise LookupError(host)


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the monitoring test needs root (network namespaces, mounts, nspawn)")
    bundles = sorted((REPO / "dist").glob("bookdesk-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not bundles:
        pytest.fail("no bundle in dist/: make monitoring-test builds one with make package")
    # The project's monitoring files with the time-shortened rules (tests/monitoring/stack.py).
    config_dir = tmp_path_factory.mktemp("monitoring") / "monitoring"
    shutil.copytree(REPO / "deploy" / "monitoring", config_dir)
    for name, content in shortened_rules().items():
        (config_dir / "prometheus" / "rules" / name).write_text(yaml.safe_dump(content))
    extra = [
        f"monitoring_config_dir={config_dir}",
        "monitoring_scrape_interval=1s",
        "monitoring_scrape_timeout=1s",
        "monitoring_evaluation_interval=1s",
    ]
    resend = {"monitoring_prometheus_extra_args": ["--rules.alert.resend-delay=1s"]}
    extra_vars = [*(a for v in extra for a in ("-e", v)), "-e", json.dumps(resend)]
    m = Monitoring(config_dir, extra_vars)
    up = run([*LOCALENV, "up", "--no-deploy"], timeout=2400)
    m.figures["env_up_seconds"] = up.seconds
    urls = json.loads((Path(ENV["BOOKDESK_ENV_DIR"]) / "urls.json").read_text())
    m.url = urls["production"]
    m.cacert = str(Path(ENV["BOOKDESK_ENV_DIR"]) / "tls" / "ca.crt")
    result = m.playbook("monitoring.yml")
    m.figures["monitoring_playbook_seconds"] = result.seconds
    result = run(
        [*LOCALENV, "playbook", "deploy.yml", "-e", "bookdesk_deploy_env=production",
         "-e", f"app_bundle={bundles[-1]}"],
    )  # fmt: skip
    m.figures["deploy_seconds"] = result.seconds
    yield m
    results = REPO / "var" / "monitoring-test" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(m.figures, indent=2) + "\n")
    if os.environ.get("MONITORING_TEST_KEEP") != "1":
        run([*LOCALENV, "down"], check=False)


def test_the_monitoring_host_scrapes_every_host_and_probes_the_site(monitoring):
    hosts = [MONITORING_HOST, *APP_HOSTS, "db"]
    addresses = {monitoring.address(h): h for h in hosts}

    def all_up():
        targets = json.loads(
            on_host(MONITORING_HOST, "curl", "-sf", "http://127.0.0.1:9090/api/v1/targets")
        )["data"]["activeTargets"]
        down = [(t["labels"]["job"], t["labels"]["instance"], t["lastError"])
                for t in targets if t["health"] != "up"]  # fmt: skip
        return (targets, down) if targets and not down else None

    targets, _ = wait_until(lambda: all_up() or None, timeout=90, what="every target up")
    jobs: dict[str, set[str]] = {}
    for target in targets:
        address = target["labels"]["instance"].rsplit(":", 1)[0]
        jobs.setdefault(target["labels"]["job"], set()).add(addresses.get(address, address))
    assert jobs["bookdesk"] == set(APP_HOSTS), "the app on both app hosts, through nginx"
    assert jobs["node"] == set(hosts)
    assert jobs["nginx"] == {MONITORING_HOST, *APP_HOSTS}
    assert jobs["mtail"] == {MONITORING_HOST, *APP_HOSTS}
    assert jobs["postgres"] == {"db"}
    assert jobs["blackbox-readyz"] == {f"{monitoring.url}/readyz"}
    assert monitoring.query('probe_success{job="blackbox-readyz"} == 1')
    # The app's own metrics, from both hosts, with the environment's label on alerts.
    builds = monitoring.query("bookdesk_build_info")
    assert len(builds) == 2


def test_app_logs_arrive_on_the_monitoring_host(monitoring):
    with requests.Session() as session:
        for _ in range(20):
            assert session.get(f"{monitoring.url}/healthz", verify=monitoring.cacert).ok
            session.get(f"{monitoring.url}/nowhere", verify=monitoring.cacert)

    def shipped():
        listing = on_host(
            MONITORING_HOST, "find", "/var/log/bookdesk-central", "-name", "*.log", "-size", "+0"
        )
        return {line.split("/")[-2] + "/" + line.split("/")[-1] for line in listing.split()}

    wanted = {f"{h}/nginx-access.log" for h in APP_HOSTS} | {
        f"{h}/bookdesk-web.log" for h in APP_HOSTS
    }
    found = wait_until(lambda: wanted <= shipped() and shipped(), timeout=60, what="central files")
    assert wanted <= found
    line = on_host(
        MONITORING_HOST, "tail", "-n", "1", "/var/log/bookdesk-central/prod-app1/bookdesk-web.log"
    )
    _time, host, program, message = line.strip().split(" ", 3)
    assert (host, program) == ("prod-app1", "bookdesk-web")
    assert "level" in json.loads(message)
    # mtail on the app hosts counts the same requests for the availability SLI.
    counted = wait_until(
        lambda: monitoring.query('sum(nginx_access_requests_total{status="404"})'),
        timeout=30,
        what="mtail's request counts in Prometheus",
    )
    assert float(counted[0]["value"][1]) >= 20


def sink_mails(subject_part: str) -> list[str]:
    """Messages in the SMTP sink (a Maildir on the db host) whose text has subject_part."""
    script = (
        "for f in /var/lib/smtp-sink/Maildir/new/*; do "
        'grep -qF -- "$1" "$f" 2>/dev/null && { cat "$f"; printf "\\n@@END@@\\n"; }; done; true'
    )
    out = on_host("db", "sh", "-c", script, "sink", subject_part)
    return [m for m in out.split("\n@@END@@\n") if m.strip()]


def test_one_host_down_is_a_ticket_both_down_pages_on_call(monitoring):
    colours = {h: monitoring.live_colour(h) for h in APP_HOSTS}
    first, second = APP_HOSTS
    first_metrics = f"{monitoring.address(first)}:9180"
    started = time.monotonic()
    on_host(first, "systemctl", "stop", f"bookdesk-web@{colours[first]}.service")
    try:
        down = wait_until(lambda: monitoring.firing("TargetDown"), timeout=60, what="TargetDown")
        monitoring.figures["target_down_seconds"] = round(time.monotonic() - started, 1)
        assert {(a["job"], a["instance"]) for a in down} == {("bookdesk", first_metrics)}
        assert down[0]["env"] == "production" and down[0]["severity"] == "warning"
        # The balancer serves from the other host: the site is up, nobody is paged.
        assert monitoring.query('probe_success{job="blackbox-readyz"} == 1')
        assert not monitoring.firing("SiteDown")

        pages_before = len(sink_mails("SiteDown (critical, production)"))
        started = time.monotonic()
        on_host(second, "systemctl", "stop", f"bookdesk-web@{colours[second]}.service")
        [site_down] = wait_until(lambda: monitoring.firing("SiteDown"), timeout=60, what="SiteDown")
        monitoring.figures["site_down_seconds"] = round(time.monotonic() - started, 1)
        assert site_down["severity"] == "critical" and site_down["env"] == "production"
        pages = wait_until(
            lambda: sink_mails("SiteDown (critical, production)")[pages_before:],
            timeout=60,
            what="the page",
        )
        mail = pages[0]
        monitoring.figures["site_down_mail_seconds"] = round(time.monotonic() - started, 1)
        assert "oncall@production.bookdesk.test" in mail
        assert "[FIRING:1] SiteDown" in mail
    finally:
        for host in APP_HOSTS:
            on_host(host, "systemctl", "start", f"bookdesk-web@{colours[host]}.service")
    wait_until(lambda: not monitoring.firing("SiteDown"), timeout=90, what="SiteDown to resolve")
    wait_until(
        lambda: not monitoring.firing("TargetDown"), timeout=90, what="TargetDown to resolve"
    )


def test_a_backup_restores_with_equal_row_counts(monitoring):
    result = run([*LOCALENV, "playbook", "restore-drill.yml", "-e", "drill_backup_first=true"])
    monitoring.figures["restore_drill_seconds"] = result.seconds
    out = result.stdout
    assert out.count("all equal") == 2, "staging's and production's databases"
    assert "restored into bookdesk_production_restore_drill" in out
    assert re.search(r"uploads copy \S+: \d+ files, \d+ bytes, all present and readable", out)
    drills = wait_until(
        lambda: monitoring.query('bookdesk_backup_last_ok{action="drill"} == 1'),
        timeout=60,
        what="the drill's result in Prometheus",
    )
    assert {d["metric"]["set"] for d in drills} >= {
        "production-db",
        "staging-db",
        "production-uploads",
    }


def test_a_second_run_changes_nothing(monitoring):
    for name in ("monitoring.yml", "backup.yml"):
        result = monitoring.playbook(name)
        hosts = recap(result.stdout)
        assert set(hosts) >= {"db", "staging-app1", "prod-lb", "prod-app1", "prod-app2"}
        changed = {h: r["changed"] for h, r in hosts.items() if r["changed"] or r["failed"]}
        assert changed == {}, (
            f"{name} changed something on its second run:\n{result.stdout[-6000:]}"
        )
        monitoring.figures[f"{name}_again_seconds"] = result.seconds
