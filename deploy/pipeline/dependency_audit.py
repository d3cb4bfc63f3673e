"""The dependency audit (make audit, part of the security stage): pip-audit over the hash
locks of what ships, against the OSV advisory database.

A known vulnerability fails the stage. An advisory service that cannot be reached does not
(build machines may have no way out), but the stage says so in one plain line, so nobody
mistakes "not checked" for "nothing found". Accepted advisories, each with its reason, go in
deploy/pipeline/audit-ignore.txt (`ID  reason`).

Runs with the tools venv's Python (pip-audit lives there). AUDIT_OSV_URL points it at
another OSV-compatible service (the tests use one on loopback).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
IGNORE_FILE = HERE / "audit-ignore.txt"

# What pip-audit (and requests under it) say when the service is out of reach.
UNREACHABLE = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "SSLError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Could not connect",
    "Connection refused",
    "Network is unreachable",
    "503 Server Error",
    "502 Server Error",
    "504 Server Error",
)


def pip_audit() -> str:
    here = Path(sys.executable).parent / "pip-audit"
    return str(here) if here.exists() else "pip-audit"


def read_ignored(path: Path = IGNORE_FILE) -> dict[str, str]:
    ignored = {}
    if path.exists():
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            vuln_id, _, reason = line.partition(" ")
            if len(reason.split()) < 3:
                raise SystemExit(f"{path.name}:{number}: give the reason for ignoring {vuln_id}")
            ignored[vuln_id] = reason.strip()
    return ignored


def audit(lock: Path, *, osv_url: str | None, timeout: int, ignored: dict[str, str]) -> tuple:
    """("passed"|"vulnerable"|"unreachable"|"error", lines to print)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        command = [
            pip_audit(),
            "--requirement",
            str(lock),
            "--require-hashes",
            "--disable-pip",
            "--no-deps",
            "--vulnerability-service",
            "osv",
            "--timeout",
            str(timeout),
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report),
        ]
        if osv_url:
            command += ["--osv-url", osv_url]
        for vuln_id in ignored:
            command += ["--ignore-vuln", vuln_id]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        text = report.read_text() if report.exists() else ""
    output = f"{done.stdout}\n{done.stderr}"
    if text:
        data = json.loads(text)
        deps = data.get("dependencies", [])
        found = [
            f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in "
            f"{', '.join(vuln.get('fix_versions') or []) or 'no release yet'})"
            for dep in deps
            for vuln in dep.get("vulns", [])
        ]
        if found:
            return "vulnerable", found
        if done.returncode == 0:
            return "passed", [f"{len(deps)} packages, no known vulnerability"]
    if any(marker in output for marker in UNREACHABLE):
        last = [line for line in output.splitlines() if line.strip()][-1:]
        return "unreachable", last
    tail = [line for line in output.splitlines() if line.strip()][-15:]
    return "error", tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pip-audit of the hash locks (OSV)")
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("AUDIT_TIMEOUT", "15")))
    args = parser.parse_args(argv)
    osv_url = os.environ.get("AUDIT_OSV_URL") or None
    ignored = read_ignored()
    for vuln_id, reason in ignored.items():
        print(f"dependency audit: accepted {vuln_id}: {reason}")
    worst = 0
    for lock in args.locks:
        state, lines = audit(lock, osv_url=osv_url, timeout=args.timeout, ignored=ignored)
        if state == "passed":
            print(f"dependency audit: {lock}: passed: {lines[0]}")
        elif state == "vulnerable":
            for line in lines:
                print(f"dependency audit: {lock}: VULNERABLE: {line}")
            worst = 1
        elif state == "unreachable":
            print(
                f"dependency audit: {lock}: NOT CHECKED: the advisory service could not be "
                f"reached from this machine ({' '.join(lines)}); the stage goes on without it"
            )
            # One unreachable lock means the rest are too: say it once.
            return worst
        else:
            print(f"dependency audit: {lock}: FAILED to run pip-audit:")
            for line in lines:
                print(f"  {line}")
            worst = 1
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
