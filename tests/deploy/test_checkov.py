"""checkov passes on the Terraform code and the Containerfile, except checks skipped in the
code with a written reason. checkov runs from its own venv (.venv-checkov, made by
`make checkov-venv` from requirements/checkov.lock) because its dependencies clash with
the app's."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.static

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def run_checkov(*args: str) -> dict:
    assert CHECKOV.exists(), "checkov's venv is missing: run `make checkov-venv`"
    # --skip-download: no calls home for guidelines or policies (the machines are offline).
    completed = subprocess.run(
        [str(CHECKOV), *args, "--skip-download", "--compact", "--output", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    assert isinstance(report, dict), "expected one framework's report"
    return report


def failures(report: dict) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in report["results"]["failed_checks"]
    ]


def assert_skips_have_reasons(report: dict) -> None:
    for check in report["results"]["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']}: {reason!r}"


def test_checkov_passes_on_terraform():
    report = run_checkov("--directory", "deploy/terraform", "--framework", "terraform")
    assert failures(report) == []
    assert report["summary"]["passed"] > 200, "checkov found much less to check than expected"
    assert_skips_have_reasons(report)


def test_checkov_passes_on_the_containerfile(tmp_path):
    # checkov recognises Dockerfiles by name only; the file is checked under that name.
    shutil.copy(ROOT / "deploy" / "container" / "Containerfile", tmp_path / "Dockerfile")
    report = run_checkov("--directory", str(tmp_path), "--framework", "dockerfile")
    assert failures(report) == []
    assert report["summary"]["passed"] > 10
    assert_skips_have_reasons(report)
