"""Deploy benchmark on the local environment (make bench-deploy; needs root).

Measures, on local production (a balancer and two app hosts):
- a deploy of a new release end to end (make deploy's wall time), and per host the
  cutover: from the new colour being ready to nginx serving it (bookdesk-deployctl switch:
  nginx -t, rename, graceful reload, first answer from the new release);
- a rollback end to end and its cutover;
- throughput through the balancer with two app hosts and with one (the other drained):
  closed loop, a fixed number of clients each sending its next request when the last
  answered, on new TLS connections, for a fixed time.

Runs on the environment of `make env-up` (var/env), bringing it up when it is not. Each
figure is the median of RUNS runs. Results: bench/results/deploy.md and deploy.json.
The machine's load average is recorded: this machine is shared, and the figures move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "env"))
sys.path.insert(0, str(REPO))

from loadgen import MIX, Load  # noqa: E402

from bench.results_file import RESULTS_DIR, cpu_model, write_section  # noqa: E402

STATE = Path(os.environ.get("BOOKDESK_ENV_DIR") or REPO / "var" / "env")
LOCALENV = [str(REPO / ".venv-ansible/bin/python"), str(REPO / "deploy/env/localenv.py")]


def run(cmd: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        )
    return time.monotonic() - started, result


def on_host(host: str, *command: str) -> str:
    return run([*LOCALENV, "exec", host, "--", *command])[1].stdout


def last_record(host: str) -> dict:
    return json.loads(on_host(host, "tail", "-n", "1", "/srv/bookdesk/deploys.log"))


def deploy(bundle: Path) -> tuple[float, list[float]]:
    seconds, _ = run(["make", "deploy", "ENV=production", f"BUNDLE={bundle}"])
    return seconds, [last_record(h)["cutover_seconds"] for h in ("prod-app1", "prod-app2")]


def rollback() -> tuple[float, list[float]]:
    seconds, _ = run(["make", "rollback", "ENV=production", "REASON=benchmark"])
    return seconds, [last_record(h)["cutover_seconds"] for h in ("prod-app1", "prod-app2")]


async def closed_loop(load: Load, clients: int, duration: float) -> tuple[int, int]:
    ok = failed = 0
    stop = time.monotonic() + duration
    paths = [p for p, _ in MIX]

    async def client(i: int) -> None:
        nonlocal ok, failed
        n = i
        while time.monotonic() < stop:
            try:
                outcome, _ = await asyncio.wait_for(load._get(paths[n % len(paths)]), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                outcome = "error"
            if outcome == "ok":
                ok += 1
            else:
                failed += 1
            n += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return ok, failed


def throughput(url: str, cacert: str, clients: int, duration: float) -> dict:
    load = Load(url, rate=1, cacert=cacert)
    ok, failed = asyncio.run(closed_loop(load, clients, duration))
    return {"requests_per_second": round(ok / duration, 1), "ok": ok, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--from-test",
        type=Path,
        help="take deploy, cutover and rollback figures from make deploy-test's results "
        "(var/deploy-test/results.json) instead of deploying here; throughput is measured",
    )
    args = parser.parse_args()

    if not (STATE / "urls.json").exists():
        run([*LOCALENV, "up"], timeout=3600)
    urls = json.loads((STATE / "urls.json").read_text())
    cacert = str(STATE / "tls" / "ca.crt")
    bundles = sorted(REPO.glob("dist/bookdesk-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not bundles:
        raise SystemExit("no bundle: make package")
    first = bundles[-1]
    deploy(first)  # serve the release of HEAD

    deploys, cutovers, rollbacks, rollback_cutovers = [], [], [], []
    source = "deployed here"
    if args.from_test:
        test = json.loads(args.from_test.read_text())
        deploys = [test["deploy_under_load"]["seconds"]]
        cutovers = test["deploy_under_load"]["cutover_seconds"]
        rollbacks = [test["rollback_under_load"]["seconds"]]
        rollback_cutovers = test["rollback_under_load"]["cutover_seconds"]
        source = f"from make deploy-test ({args.from_test}), under 100 requests/s"
    else:
        out = REPO / "var" / "bench-deploy"
        nxt = Path(
            run([sys.executable, "deploy/env/test_bundles.py", str(first), "--label",
                 "bench", "--out", str(out)])[1].stdout.strip()
        )  # fmt: skip
        for _ in range(args.runs):
            seconds, cut = deploy(nxt)
            deploys.append(seconds)
            cutovers += cut
            seconds, cut = rollback()
            rollbacks.append(seconds)
            rollback_cutovers += cut

    two = throughput(urls["production"], cacert, args.clients, args.seconds)
    run([*LOCALENV, "exec", "prod-lb", "--", "/usr/local/sbin/bookdesk-lb", "drain", "prod-app2"])
    try:
        one = throughput(urls["production"], cacert, args.clients, args.seconds)
    finally:
        run([*LOCALENV, "exec", "prod-lb", "--", "/usr/local/sbin/bookdesk-lb", "undrain",
             "prod-app2"])  # fmt: skip

    load = os.getloadavg()
    figures = {
        "deploy_seconds": {"median": round(statistics.median(deploys), 1), "runs": deploys},
        "cutover_seconds": {"median": round(statistics.median(cutovers), 2), "runs": cutovers},
        "rollback_seconds": {"median": round(statistics.median(rollbacks), 1), "runs": rollbacks},
        "rollback_cutover_seconds": {
            "median": round(statistics.median(rollback_cutovers), 2),
            "runs": rollback_cutovers,
        },
        "throughput": {
            "two_app_hosts": two,
            "one_app_host": one,
            "clients": args.clients,
            "seconds": args.seconds,
        },
        "load_average": [round(x, 1) for x in load],
        "deploy_figures": source,
    }
    (RESULTS_DIR / "deploy.json").write_text(json.dumps(figures, indent=2) + "\n")
    machine = f"{cpu_model()}, {os.cpu_count()} CPUs"
    lines = [
        f"- deploy and rollback figures: {source}",
        f"- deploy of a new release to local production (2 app hosts, one at a time), end to "
        f"end: median {figures['deploy_seconds']['median']} s (runs: "
        f"{', '.join(f'{s:.1f}' for s in deploys)})",
        f"- cutover, ready to serving (nginx -t, rename, reload, first answer): median "
        f"{figures['cutover_seconds']['median']} s per host (max {max(cutovers):.2f} s)",
        f"- rollback, end to end: median {figures['rollback_seconds']['median']} s; its cutover "
        f"median {figures['rollback_cutover_seconds']['median']} s",
        f"- throughput through the balancer, {args.clients} clients, {args.seconds:.0f} s: "
        f"two app hosts {two['requests_per_second']} requests/s, one app host "
        f"{one['requests_per_second']} requests/s (failed: {two['failed']}, {one['failed']})",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in load)} (other work on "
        "the machine slows the figures)",
    ]
    write_section(
        RESULTS_DIR / "deploy.md",
        "# Deploy benchmark\n\nWritten by `bench/deploy.py` (make bench-deploy).\n",
        "local production",
        machine,
        lines,
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
