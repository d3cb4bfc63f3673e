"""The secret scan (make lint-security): detect-secrets over every file git tracks, judged
against the reviewed baseline `.secrets.baseline`.

Each finding in the baseline was looked at by a person and marked `"is_secret": false`
(test fixtures, documentation examples, hashes). The scan fails on anything else: a new
finding nobody reviewed, or one marked as a real secret. To review new findings:
`make secrets-baseline` (updates the baseline, keeping earlier verdicts), then
`.venv-tools/bin/detect-secrets audit .secrets.baseline` and commit the result.

Runs with the tools venv's Python (detect-secrets lives there).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def detect_secrets() -> str:
    here = Path(sys.executable).parent / "detect-secrets"
    return str(here) if here.exists() else "detect-secrets"


def rescan(root: Path, baseline: Path) -> dict:
    """The baseline as a fresh scan makes it now (earlier verdicts carried over)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "baseline.json"
        shutil.copy(baseline, copy)
        subprocess.run(
            [detect_secrets(), "scan", "--baseline", str(copy)],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(copy.read_text())


def harmless_values(baseline: dict) -> set[tuple[str, str]]:
    """(type, hashed value) of every finding a person marked harmless."""
    return {
        (item["type"], item["hashed_secret"])
        for items in baseline.get("results", {}).values()
        for item in items
        if item.get("is_secret") is False
    }


def verdicts(report: dict, known_harmless: frozenset = frozenset()) -> tuple[list, list, int]:
    """Unreviewed findings, findings marked real, and how many were reviewed as harmless.

    A value already judged harmless in another file (a fixture that moved with its test)
    keeps that verdict: the value is what was judged.
    """
    unreviewed, real, harmless = [], [], 0
    for filename, items in sorted(report.get("results", {}).items()):
        for item in items:
            where = f"{filename}:{item.get('line_number', '?')} ({item['type']})"
            seen = (item["type"], item.get("hashed_secret")) in known_harmless
            if item.get("is_secret") is False or (item.get("is_secret") is None and seen):
                harmless += 1
            elif item.get("is_secret") is True:
                real.append(where)
            else:
                unreviewed.append(where)
    return unreviewed, real, harmless


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Secret scan against the reviewed baseline")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args(argv)
    baseline = args.baseline or args.root / ".secrets.baseline"
    if not baseline.exists():
        print(f"secret scan: FAILED: no baseline at {baseline} (make secrets-baseline)")
        return 1
    report = rescan(args.root, baseline)
    known = frozenset(harmless_values(json.loads(baseline.read_text())))
    unreviewed, real, harmless = verdicts(report, known)
    for where in real:
        print(f"secret scan: a real secret is committed: {where}")
    for where in unreviewed:
        print(f"secret scan: not reviewed: {where}")
    if real or unreviewed:
        print(
            "secret scan: FAILED: remove the secret (and rotate it), or review the finding: "
            "make secrets-baseline, then detect-secrets audit .secrets.baseline"
        )
        return 1
    print(f"secret scan: passed ({harmless} reviewed findings, none new)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
