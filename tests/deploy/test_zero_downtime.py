"""Zero-downtime deploys, proven on the local environment under load (make deploy-test).

The local environment (deploy/env/localenv.py) is brought up for this module on its own
addresses and directory, so it never touches one a developer has running, and is removed at
the end (make deploy-test also removes it on any exit). The tests run in file order, one
scenario: each checks the state the previous one left before it changes anything.

1. a second provisioning run changes nothing;
2. release N is deployed to production;
3. N+1 is deployed while a load generator sends 100+ requests a second through the
   balancer: no request fails or is dropped, and the answers move from N to N+1;
4. a release whose /readyz fails is deployed under the same load: no request fails, no
   answer ever comes from it, the deploy fails with the reason, N+1 keeps serving;
5. `make rollback` under load returns to N with no failed request;
6. an app host is stopped under load: the balancer takes it out and users see no error;
7. a deploy whose post-deploy command fails rolls every host back, under load.

Not part of `make test` (marker localenv): it needs root, about five minutes and a few
hundred MB of disk. Figures are printed and kept in var/deploy-test/results.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "env"))

from loadgen import Load  # noqa: E402

pytestmark = pytest.mark.localenv

RATE = float(os.environ.get("DEPLOY_TEST_RATE", "100"))
ENV = {
    "BOOKDESK_ENV_ID": os.environ.get("DEPLOY_TEST_ENV_ID", "bkt"),
    "BOOKDESK_ENV_NET": os.environ.get("DEPLOY_TEST_ENV_NET", "10.77.9"),
    "BOOKDESK_ENV_DIR": str(REPO / "var" / "env-test"),
    "BOOKDESK_DEPLOY_ACTOR": "deploy-test",
}
LOCALENV = [str(REPO / ".venv-ansible" / "bin" / "python"), str(REPO / "deploy/env/localenv.py")]
RESULTS = REPO / "var" / "deploy-test" / "results.json"
SETTLE = 2.0  # seconds of load before and after each operation


def environ() -> dict[str, str]:
    return {**os.environ, **ENV}


def run(cmd: list[str], *, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = subprocess.run(
        cmd, cwd=REPO, env=environ(), capture_output=True, text=True, timeout=timeout, check=False
    )
    result.seconds = round(time.monotonic() - started, 1)
    if check and result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
        pytest.fail(f"{' '.join(cmd)} exited {result.returncode}\n{output}")
    return result


def playbook(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([*LOCALENV, "playbook", *args], check=check)


def on_host(host: str, *command: str) -> str:
    return run([*LOCALENV, "exec", host, "--", *command]).stdout


def recap(output: str) -> dict[str, dict[str, int]]:
    found = {}
    recap_block = output.split("PLAY RECAP")[-1].split("TASKS RECAP")[0]
    for line in recap_block.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(ok=.*)$", line.strip())
        if match:
            found[match.group(1)] = {
                k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return found


def state(host: str) -> dict:
    return json.loads(on_host(host, "/usr/local/libexec/bookdesk/bookdesk-deployctl", "state"))


def last_deploy_record(host: str) -> dict:
    return json.loads(on_host(host, "tail", "-n", "1", "/srv/bookdesk/deploys.log"))


class Scenario:
    """What the tests share: the environment, the bundles and the figures measured."""

    def __init__(self) -> None:
        self.url = ""
        self.cacert = ""
        self.bundles: dict[str, Path] = {}
        self.releases: dict[str, str] = {}
        self.figures: dict[str, dict] = {}
        self.app_hosts = ["prod-app1", "prod-app2"]

    def load(self) -> Load:
        # A slow answer is an answer: on a busy shared machine requests can queue for
        # long in this very client, so only an error, a wrong status or no answer at all
        # within two minutes counts as a failure.
        return Load(self.url, rate=RATE, cacert=self.cacert, timeout=120)

    def under_load(self, action) -> tuple[subprocess.CompletedProcess, dict]:
        with self.load() as load:
            time.sleep(SETTLE)
            result = action()
            finished = time.monotonic()
            time.sleep(SETTLE)
        report = load.report
        return result, report.summary() | {"report": report, "action_finished": finished}

    def record(self, name: str, **figures) -> None:
        self.figures[name] = figures
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(self.figures, indent=2, default=str) + "\n")

    def deploy(self, bundle: Path, *, check: bool = True) -> subprocess.CompletedProcess:
        return playbook(
            "deploy.yml",
            "-e",
            "bookdesk_deploy_env=production",
            "-e",
            f"app_bundle={bundle}",
            check=check,
        )


def assert_no_failures(summary: dict) -> None:
    assert summary["sent"] >= RATE * SETTLE * 2, f"too few requests sent: {summary['sent']}"
    assert summary["failed"] == 0, f"failed or dropped requests: {summary['failures']}"


def release_of(bundle: Path) -> str:
    return bundle.name.removeprefix("bookdesk-").removesuffix(".tar.gz")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("the deploy test needs root (network namespaces, mounts, nspawn)")
    s = Scenario()
    bundles = sorted((REPO / "dist").glob("bookdesk-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not bundles:
        pytest.fail("no bundle in dist/: make deploy-test builds one with make package")
    n = bundles[-1]
    out = tmp_path_factory.mktemp("bundles")
    python = str(REPO / ".venv" / "bin" / "python")
    make = [python, str(REPO / "deploy/env/test_bundles.py"), str(n)]
    s.bundles = {
        "n": n,
        "next": Path(run([*make, "--label", "next", "--out", str(out)]).stdout.strip()),
        "broken": Path(
            run([*make, "--label", "broken", "--break-readiness", "--out", str(out)]).stdout.strip()
        ),
    }
    s.releases = {k: release_of(v) for k, v in s.bundles.items()}
    up = run([*LOCALENV, "up", "--no-deploy"], timeout=1800)
    s.figures["env_up"] = {"seconds": up.seconds}
    urls = json.loads((Path(ENV["BOOKDESK_ENV_DIR"]) / "urls.json").read_text())
    s.url = urls["production"]
    s.cacert = str(Path(ENV["BOOKDESK_ENV_DIR"]) / "tls" / "ca.crt")
    yield s
    if os.environ.get("DEPLOY_TEST_KEEP") != "1":
        run([*LOCALENV, "down"], check=False)


def test_second_provisioning_run_changes_nothing(scenario):
    result = playbook("site.yml")
    hosts = recap(result.stdout)
    assert set(hosts) >= {"db", "staging-app1", "prod-lb", "prod-app1", "prod-app2"}
    changed = {host: r["changed"] for host, r in hosts.items() if r["changed"] or r["failed"]}
    assert changed == {}, f"the second run changed something:\n{result.stdout[-6000:]}"
    scenario.record("provision_again", seconds=result.seconds)


def test_first_deploy_serves_release_n(scenario):
    result = scenario.deploy(scenario.bundles["n"])
    for host in scenario.app_hosts:
        assert state(host)["current"] == scenario.releases["n"]
    with scenario.load() as load:
        time.sleep(3)
    summary = load.report.summary()
    assert summary["failed"] == 0, summary["failures"]
    assert set(summary["releases"]) == {scenario.releases["n"]}
    scenario.record("deploy_first", seconds=result.seconds)


def test_deploy_under_load_loses_no_request(scenario):
    n, nxt = scenario.releases["n"], scenario.releases["next"]
    assert state("prod-app1")["current"] == n, "release N must be serving first"
    result, summary = scenario.under_load(lambda: scenario.deploy(scenario.bundles["next"]))
    assert result.returncode == 0
    assert_no_failures(summary)
    seen = summary["releases"]
    assert set(seen) == {n, nxt}, f"answers came from {sorted(seen)}"
    # Once the deploy has finished, only N+1 answers: no request sent after that (its
    # scheduled time, which is never later than when it really left) came back from N.
    late = [
        r for r in summary["report"].results
        if r.release == n and r.sent > summary["action_finished"]
    ]  # fmt: skip
    assert late == [], f"{len(late)} requests sent after the deploy were answered by N"
    for host in scenario.app_hosts:
        assert state(host)["current"] == nxt
        assert last_deploy_record(host)["result"] == "success"
    cutover = [last_deploy_record(h)["cutover_seconds"] for h in scenario.app_hosts]
    scenario.record(
        "deploy_under_load",
        seconds=result.seconds,
        cutover_seconds=cutover,
        **{k: v for k, v in summary.items() if k not in ("report", "action_finished")},
    )


def test_broken_release_never_takes_traffic(scenario):
    nxt, broken = scenario.releases["next"], scenario.releases["broken"]
    assert state("prod-app1")["current"] == nxt, "release N+1 must be serving first"
    result, summary = scenario.under_load(
        lambda: scenario.deploy(scenario.bundles["broken"], check=False)
    )
    assert result.returncode != 0, "the deploy of a release that is never ready must fail"
    assert "DEPLOY FAILED" in result.stdout
    assert f"Release {broken} did not take over" in result.stdout
    assert "brokenOnPurpose" in result.stdout, "the reason names the failing readiness check"
    assert_no_failures(summary)
    assert broken not in summary["releases"], "the broken release answered requests"
    assert set(summary["releases"]) == {nxt}
    for host in scenario.app_hosts:
        assert state(host)["current"] == nxt
    assert last_deploy_record("prod-app1")["result"] == "failed"
    scenario.record(
        "broken_release",
        seconds=result.seconds,
        **{k: v for k, v in summary.items() if k not in ("report", "action_finished")},
    )


def test_rollback_under_load(scenario):
    n, nxt = scenario.releases["n"], scenario.releases["next"]
    assert state("prod-app1")["current"] == nxt
    result, summary = scenario.under_load(
        lambda: run(["make", "rollback", "ENV=production", "REASON=deploy test"], check=False)
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert_no_failures(summary)
    assert set(summary["releases"]) == {n, nxt}
    for host in scenario.app_hosts:
        assert state(host)["current"] == n
        record = last_deploy_record(host)
        assert (record["action"], record["result"], record["reason"]) == (
            "rollback",
            "success",
            "deploy test",
        )
    scenario.record(
        "rollback_under_load",
        seconds=result.seconds,
        cutover_seconds=[last_deploy_record(h)["cutover_seconds"] for h in scenario.app_hosts],
        **{k: v for k, v in summary.items() if k not in ("report", "action_finished")},
    )


def test_stopped_app_host_is_taken_out(scenario):
    def lb_status() -> dict:
        return json.loads(on_host("prod-lb", "/usr/local/sbin/bookdesk-lb", "status"))

    assert not lb_status()["prod-app2"]["down"]
    taken_out = {}

    def stop_and_watch():
        stopped = time.monotonic()
        run([*LOCALENV, "stop-host", "prod-app2"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if lb_status()["prod-app2"]["down"]:
                taken_out["seconds"] = round(time.monotonic() - stopped, 1)
                break
            time.sleep(0.5)
        time.sleep(3)  # keep sending while the balancer has only prod-app1
        return None

    try:
        _, summary = scenario.under_load(stop_and_watch)
        assert "seconds" in taken_out, "the balancer never took the stopped host out"
        assert_no_failures(summary)
        upstream = on_host("prod-lb", "cat", "/etc/nginx/bookdesk/backends.conf")
        assert re.search(r"down;\s+# prod-app2", upstream), upstream
        scenario.record(
            "app_host_stopped",
            taken_out_seconds=taken_out["seconds"],
            **{k: v for k, v in summary.items() if k not in ("report", "action_finished")},
        )
    finally:
        run([*LOCALENV, "start-host", "prod-app2"], check=False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and lb_status()["prod-app2"]["down"]:
            time.sleep(1)


def test_failing_post_deploy_checks_roll_every_host_back(scenario):
    """The pipeline's hook: a post-deploy command that fails after every host switched
    returns all of them to the release they had, under load, and fails the deploy."""
    n, nxt = scenario.releases["n"], scenario.releases["next"]
    for host in scenario.app_hosts:
        assert state(host)["current"] == n
    failing_checks = "bookdesk_post_deploy_command='echo smoke test failed; exit 3'"

    def deploy_with_failing_checks():
        return playbook(
            *("deploy.yml", "-e", "bookdesk_deploy_env=production"),
            *("-e", f"app_bundle={scenario.bundles['next']}", "-e", failing_checks),
            check=False,
        )

    result, summary = scenario.under_load(deploy_with_failing_checks)
    assert result.returncode != 0
    assert "Post-deploy checks failed" in result.stdout and "smoke test failed" in result.stdout
    assert_no_failures(summary)
    assert set(summary["releases"]) == {n, nxt}, "N+1 served, then N again"
    for host in scenario.app_hosts:
        assert state(host)["current"] == n
        assert last_deploy_record(host)["result"] == "rolled-back"
    scenario.record(
        "post_deploy_rollback",
        seconds=result.seconds,
        **{k: v for k, v in summary.items() if k not in ("report", "action_finished")},
    )
