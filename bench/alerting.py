"""Time from a failure to the alert email, with the real monitoring stack on loopback.

Runs tests/monitoring/test_live_alerting.py several times (the app under gunicorn behind
nginx, mtail, blackbox_exporter, Prometheus, Alertmanager, SMTP inboxes; see that test)
and collects the three times it measures:
  - app stopped -> SiteDown email in the inbox,
  - app restarted -> SiteDown resolved email (includes the app's own start-up),
  - relay refusing -> OtpEmailSendFailures email (from the moment the first failed send
    has been scraped and three more failing sign-ins start).
The test runs with every duration of the rules divided by 60; the production estimate
below is worked out from the real configuration instead.

    .venv/bin/python bench/alerting.py [--runs 3]
        [--database-url postgres://postgres@127.0.0.1:5432/bd_bench_alerting]

Writes bench/results/alerting.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results" / "alerting.md"
MONITORING = PROJECT / "deploy" / "monitoring"
FIGURES = [
    ("site_down_email", "app stopped -> SiteDown email"),
    ("site_resolved_email", "app restarted (incl. its start-up) -> SiteDown resolved email"),
    ("otp_failures_email", "more failed code emails -> OtpEmailSendFailures email"),
]


def seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(duration[:-1]) * units[duration[-1]]


def production_estimate() -> list[str]:
    """Bounds for SiteDown with the real settings: for + detection + grouping delays."""
    prom = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    rules = yaml.safe_load((MONITORING / "prometheus" / "rules" / "availability.yml").read_text())
    am = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text())
    site_down = next(r for r in rules["groups"][0]["rules"] if r.get("alert") == "SiteDown")
    critical = next(r for r in am["route"]["routes"] if r["matchers"] == ['severity="critical"'])
    hold = seconds(site_down["for"])
    scrape = seconds(prom["global"]["scrape_interval"])
    evaluation = seconds(prom["global"]["evaluation_interval"])
    wait = seconds(critical.get("group_wait", am["route"]["group_wait"]))
    low, high = hold + wait, hold + scrape + 2 * evaluation + wait
    return [
        f"- SiteDown `for: {site_down['for']}`, scrape every {scrape}s, evaluation every "
        f"{evaluation}s, critical `group_wait: {wait}s`.",
        f"- So in production the email leaves Alertmanager **{low // 60}m{low % 60:02d}s to "
        f"{high // 60}m{high % 60:02d}s** after the site stops answering (the first failed "
        "probe can come up to one scrape late, the alert turns pending at the next "
        "evaluation and firing one evaluation after `for`), plus the relay's delivery time.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/bd_bench_alerting"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings_file = Path(tmp) / "timings.jsonl"
        env = {
            **os.environ,
            "DATABASE_URL": args.database_url,
            "BOOKDESK_ALERTING_TIMINGS": str(timings_file),
        }
        env.pop("TEST_DATABASE_NAME", None)
        for run in range(1, args.runs + 1):
            print(f"run {run}/{args.runs} ...", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "tests/monitoring/test_live_alerting.py",
                ],
                cwd=PROJECT,
                env=env,
                check=True,
            )
        runs = [json.loads(line) for line in timings_file.read_text().splitlines()]

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    load = os.getloadavg()[0]
    lines = [
        "# Alerting latency",
        "",
        "Written by `bench/alerting.py`.",
        "",
        f"## Live test, time-compressed ({len(runs)} runs)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine}, "
        f"Python {platform.python_version()} (1-minute load average {load:.1f}).",
        "",
        "Rules with every `for:` and window divided by 60 (SiteDown `for: 2s`, "
        "OtpEmailSendFailures `for: 1s` over 10 s), scrape and evaluation every 1 s, "
        "Alertmanager group_wait 1 s, group_interval 2 s. Times are measured by the test "
        "until the email is in the inbox.",
        "",
        "| from -> to | min | median | max |",
        "|---|---|---|---|",
    ]
    for key, label in FIGURES:
        values = [r[key] for r in runs]
        lines.append(
            f"| {label} | {min(values):.1f} s | {statistics.median(values):.1f} s "
            f"| {max(values):.1f} s |"
        )
    lines += ["", "## What that means in production", "", *production_estimate(), ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
