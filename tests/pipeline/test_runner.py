"""`make pipeline`'s runner (deploy/pipeline/run.py) with a fake `make`: order, stop on
failure, the approval step, the bundle handed on, the rollback, and the report files."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
from xml.etree import ElementTree as ET

import pytest

from tests.pipeline.scripts import PIPELINE_DIR, load

pytestmark = pytest.mark.static

run = load("run")

FAKE_MAKE = textwrap.dedent(
    """\
    #!/usr/bin/env python3
    # A stand-in for make: records each call, fails the stages named in FAIL (a file).
    import pathlib, sys
    here = pathlib.Path(__file__).parent
    args = [a for a in sys.argv[1:] if a != "--no-print-directory"]
    target, variables = args[0], dict(a.split("=", 1) for a in args[1:])
    with open(here / "calls.txt", "a") as calls:
        calls.write(" ".join(args) + "\\n")
    print(f"doing {target}")
    if target == "package":
        (here / "root" / "dist").mkdir(parents=True, exist_ok=True)
        (here / "root" / "dist" / "bookdesk-0.1.0-abc1234.tar.gz").write_bytes(b"bundle")
    failing = (here / "FAIL").read_text().split() if (here / "FAIL").exists() else []
    if target in failing:
        for n in range(60):
            print(f"{target} detail line {n}")
        print(f"{target}: FAILED: the {target} stage broke")
        sys.exit(2)
    """
)


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake-make"
    script.write_text(FAKE_MAKE)
    script.chmod(0o755)
    (tmp_path / "root").mkdir()
    return tmp_path


def pipeline(fake, stages, *, approve=False, ask=None, variables=None):
    out = io.StringIO()
    runner = run.Pipeline(
        stages=stages,
        make=[sys.executable, str(fake / "fake-make")],
        report_root=fake / "reports",
        approve=approve,
        ask=ask,
        out=out,
        interactive=False,
        variables=variables,
        root=fake / "root",
    )
    status = runner.execute()
    return status, out.getvalue(), runner.run.directory


def junit(path):
    return ET.parse(path)  # noqa: S314 - the runner's own report, written by this test


def calls(fake) -> list[str]:
    path = fake / "calls.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_stages_run_in_order_and_every_report_is_written(fake):
    status, output, report = pipeline(fake, run.ALL_STAGES, approve=True)
    assert status == 0, output
    made = [line.split()[0] for line in calls(fake)]
    assert made == [s for s in run.ALL_STAGES if s != "approve"]
    for stage in run.ALL_STAGES:
        assert f"  {stage:<18} passed" in output
        suite = junit(report / "junit" / f"{stage}.xml").getroot()
        assert suite.get("name") == f"pipeline.{stage}"
        assert suite.get("failures") == "0"
        assert float(suite.get("time")) >= 0
    summary = json.loads((report / "summary.json").read_text())
    assert summary["passed"] is True
    assert [s["state"] for s in summary["stages"]] == ["passed"] * len(run.ALL_STAGES)
    assert "| deploy-production | passed |" in (report / "summary.md").read_text()
    assert (report.parent / "latest").resolve() == report.resolve()
    assert "pipeline passed in" in output


def test_both_deploys_get_the_bundle_package_made_and_post_deploy_its_start(fake):
    status, output, report = pipeline(fake, run.ALL_STAGES, approve=True)
    assert status == 0, output
    by_target = {line.split()[0]: line for line in calls(fake)}
    bundle = "BUNDLE=dist/bookdesk-0.1.0-abc1234.tar.gz"
    assert bundle in by_target["deploy-staging"]
    assert bundle in by_target["deploy-production"]
    summary = json.loads((report / "summary.json").read_text())
    started = next(s["started"] for s in summary["stages"] if s["name"] == "deploy-production")
    assert f"SINCE={started}" in by_target["post-deploy"]
    assert "ENV=production" in by_target["post-deploy"]
    assert summary["bundle_sha256"] == hashlib.sha256(b"bundle").hexdigest()


def test_a_failing_stage_stops_the_pipeline_with_its_reason_and_log_tail(fake):
    (fake / "FAIL").write_text("migrations")
    status, output, report = pipeline(fake, run.ALL_STAGES, approve=True)
    assert status == 1
    assert [line.split()[0] for line in calls(fake)] == ["build", "lint", "migrations"]
    assert "migrations         FAILED" in output
    assert "FAILED: the migrations stage broke" in output
    assert "  | migrations detail line 59" in output
    assert "  | migrations detail line 10" not in output  # only the tail
    assert "pipeline stopped at migrations" in output
    summary = json.loads((report / "summary.json").read_text())
    states = {s["name"]: s["state"] for s in summary["stages"]}
    assert states["migrations"] == "failed"
    assert states["test"] == "not run"
    failed = junit(report / "junit" / "migrations.xml").getroot()
    assert failed.get("failures") == "1"
    assert "the migrations stage broke" in failed.find("testcase/failure").get("message")
    skipped = junit(report / "junit" / "test.xml").getroot()
    assert skipped.find("testcase/skipped") is not None


def test_declining_the_approval_leaves_production_alone(fake):
    questions = []

    def ask(question):
        questions.append(question)
        return "n"

    status, output, report = pipeline(fake, run.ALL_STAGES, ask=ask)
    assert status == 1
    assert questions[0].startswith("Deploy ")
    assert "to production (bundle bookdesk-0.1.0-abc1234.tar.gz)? [y/N]" in questions[0]
    made = [line.split()[0] for line in calls(fake)]
    assert "deploy-production" not in made and "post-deploy" not in made
    assert made[-1] == "verify-staging"
    assert "approve            DECLINED" in output
    states = {
        s["name"]: s["state"] for s in json.loads((report / "summary.json").read_text())["stages"]
    }
    assert states["approve"] == "declined"
    assert states["deploy-production"] == "not run"


def test_accepting_the_approval_goes_on_to_production(fake):
    status, output, _ = pipeline(fake, run.ALL_STAGES, ask=lambda question: "yes")
    assert status == 0, output
    assert [line.split()[0] for line in calls(fake)][-2:] == ["deploy-production", "post-deploy"]


def test_without_a_terminal_or_approve_yes_the_approval_fails_clearly(fake):
    status, output, _ = pipeline(fake, ["approve", "deploy-production"], ask=None)
    assert status == 1
    assert "run with APPROVE=yes" in output
    assert calls(fake) == []


def test_failing_post_deploy_checks_roll_production_back(fake):
    (fake / "FAIL").write_text("post-deploy")
    status, output, report = pipeline(fake, ["deploy-production", "post-deploy"], approve=True)
    assert status == 1
    assert [line.split()[0] for line in calls(fake)] == [
        "deploy-production",
        "post-deploy",
        "rollback",
    ]
    assert "rollback ENV=production" in calls(fake)[-1]
    assert "rollback           passed" in output
    assert json.loads((report / "summary.json").read_text())["rolled_back"] is True


def test_the_command_line_runs_only_the_pr_stages_when_asked(fake):
    done = subprocess.run(
        [
            sys.executable, str(PIPELINE_DIR / "run.py"), "--stages", "pr",
            "--make", f"{sys.executable} {fake / 'fake-make'}",
            "--report-dir", str(fake / "reports"),
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[0] for line in calls(fake)] == run.PR_STAGES


def test_unknown_stages_are_refused_and_named_ones_keep_the_pipeline_order():
    with pytest.raises(SystemExit, match="unknown stage"):
        run.choose_stages("build,deploy")
    assert run.choose_stages("test,build") == ["build", "test"]


def test_the_test_passes_add_up_to_one_closing_line(tmp_path, capsys):
    totals = load("test_totals")
    (tmp_path / "postgres.xml").write_text(
        '<testsuites><testsuite name="pytest" tests="10" failures="1" errors="1" skipped="2"/>'
        "</testsuites>"
    )
    (tmp_path / "sqlite.xml").write_text('<testsuite name="pytest" tests="5" skipped="0"/>')
    assert totals.main([str(tmp_path / "postgres.xml"), str(tmp_path / "sqlite.xml")]) == 0
    assert capsys.readouterr().out == "tests: 11 passed, 2 failed, 2 skipped\n"
    assert totals.main([str(tmp_path / "missing.xml")]) == 1
