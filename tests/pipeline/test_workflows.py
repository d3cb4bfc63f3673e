"""The GitHub workflows, read as files: pinned actions, least privilege, secrets only in
jobs that name their environment, one deploy at a time, and every stage they run is a
make target that exists, the same ones `.ci/run` and `make pipeline` run."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_DIR
from tests.pipeline.scripts import load

pytestmark = pytest.mark.static

WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
# Targets issue 10 brings (branch env, branch package); until merged a stand-in answers.
CONTRACT_TARGETS = {"package", "rollback", "deploy", "env-up"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load_workflow(path):
    return yaml.safe_load(path.read_text())


def steps(workflow):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, job, step


def make_targets() -> set[str]:
    database = subprocess.run(
        ["make", "--no-print-directory", "-pRrq", "-f", "Makefile"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {
        line.split(":", 1)[0]
        for line in database.splitlines()
        if re.match(r"^[a-z][a-z0-9-]*:", line) and not line.startswith(("make", "MAKE"))
    }


def made_in(run: str) -> list[str]:
    return re.findall(r"(?:^|[;&|]\s*|\n\s*)make\s+([a-z][a-z0-9-]*)", run)


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml", "stages.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_named(path):
    lines = path.read_text().splitlines()
    uses = [line.strip() for line in lines if re.match(r"^\s*(- )?uses:", line.strip())]
    assert uses, "no step uses an action or a workflow"
    for line in uses:
        ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if ref.startswith("./"):
            continue  # a workflow of this repository, at this very commit
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a 40-hex commit"
        assert re.search(r"# v\d+(\.\d+)*$", line), f"{path.name}: {line} names no version"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_declared_and_least_privilege(path):
    workflow = load_workflow(path)
    assert workflow.get("permissions") == {"contents": "read"}, path.name
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        writes = {k for k, v in granted.items() if v == "write"}
        # Only the image job writes, and only packages (the registry).
        assert writes <= ({"packages"} if name == "image" else set()), f"{path.name}:{name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_read_only_by_jobs_that_name_their_environment(path):
    workflow = load_workflow(path)
    for name, job in workflow["jobs"].items():
        text = yaml.safe_dump(job)
        used = set(re.findall(r"secrets\.([A-Z_]+)", text))
        if used:
            assert "environment" in job, f"{path.name}:{name} reads {used} without an environment"
        assert "GITHUB_TOKEN" not in used  # the job token comes from github.token


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_make_target_a_workflow_runs_exists(path):
    targets = make_targets()
    stand_ins = path.parent.parent.parent / "Makefile"
    for job_name, _job, step in steps(load_workflow(path)):
        for target in made_in(step.get("run", "")):
            if target in CONTRACT_TARGETS:
                # Not merged yet: a stand-in (or require_rule) must answer "not available".
                assert "not available" in stand_ins.read_text(), target
                continue
            assert target in targets, f"{path.name}:{job_name} runs make {target}, not a target"


def test_the_pull_request_stages_are_the_runners_and_ci_runs(tmp_path):
    runner = load("run")
    stages = load_workflow(PROJECT_DIR / ".github" / "workflows" / "stages.yml")
    in_order = [
        target
        for name in stages["jobs"]
        for _, _, step in steps({"jobs": {name: stages["jobs"][name]}})
        for target in made_in(step.get("run", ""))
    ]
    assert in_order == runner.PR_STAGES
    # .ci/run runs every PR stage: by the runner (PIPELINE_STAGES=pr, or a list of stages)
    # or as a make target of its own.
    ci_run = (PROJECT_DIR / ".ci" / "run").read_text()
    by_runner: set[str] = set()
    for spec in re.findall(r"make pipeline PIPELINE_STAGES=(\S+)", ci_run):
        by_runner |= set(runner.PR_STAGES) if spec == "pr" else set(spec.split(","))
    by_make = {stage for stage in runner.PR_STAGES if re.search(rf"make {stage}\b", ci_run)}
    assert set(runner.PR_STAGES) <= by_runner | by_make


def test_pull_requests_and_main_call_the_same_stages():
    ci = load_workflow(PROJECT_DIR / ".github" / "workflows" / "ci.yml")
    deploy = load_workflow(PROJECT_DIR / ".github" / "workflows" / "deploy.yml")
    assert ci["jobs"]["stages"]["uses"] == "./.github/workflows/stages.yml"
    assert deploy["jobs"]["stages"]["uses"] == "./.github/workflows/stages.yml"
    # `on:` reads as True in YAML 1.1.
    assert set(ci[True]) == {"pull_request", "workflow_dispatch"}
    assert deploy[True]["push"]["branches"] == ["main"]
    assert "paths" not in deploy[True]["push"]  # every change to main, the app's included


def test_deploys_never_overlap_and_production_waits_for_its_reviewers():
    deploy = load_workflow(PROJECT_DIR / ".github" / "workflows" / "deploy.yml")
    assert deploy["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    jobs = deploy["jobs"]
    assert jobs["deploy-production"]["environment"]["name"] == "production"
    assert set(jobs["deploy-production"]["needs"]) >= {"verify-staging", "package", "image"}
    assert jobs["verify-staging"]["needs"] == "deploy-staging"


def test_the_bundle_is_built_once_and_production_gets_the_one_staging_got():
    deploy = load_workflow(PROJECT_DIR / ".github" / "workflows" / "deploy.yml")
    jobs = deploy["jobs"]
    builders = [
        name
        for name, _job, step in steps(deploy)
        if "make package" in step.get("run", "") or "docker build" in step.get("run", "")
    ]
    assert sorted(builders) == ["image", "package"]
    for name in ("deploy-staging", "deploy-production"):
        text = yaml.safe_dump(jobs[name])
        assert "actions/download-artifact@" in text
        assert "sha256sum --check SHA256SUMS" in text
        assert "needs.image.outputs.image" in text
        assert "needs.package.outputs.bundle" in text
    uploads = [step for _n, _j, step in steps(deploy) if "upload-artifact" in step.get("uses", "")]
    assert len(uploads) == 1 and uploads[0]["with"]["name"] == "bundle"


def test_every_debian_job_installs_packages_with_the_ci_script():
    for path in WORKFLOWS:
        for name, job in load_workflow(path)["jobs"].items():
            if job.get("container") == "debian:12":
                runs = [step.get("run", "") for step in job["steps"]]
                assert any(".ci/system-packages" in run for run in runs), f"{path.name}:{name}"


def test_the_github_test_job_has_what_ci_run_has_and_finds_its_redis():
    """ci.yml once listed its own Debian packages (it lacked rsyslog) and the readiness
    test hard-coded Redis on loopback, where the job's Redis is the service `redis`."""
    stages = load_workflow(PROJECT_DIR / ".github" / "workflows" / "stages.yml")
    test_job = stages["jobs"]["test"]
    runs = [step.get("run", "") for step in test_job["steps"]]
    assert ".ci/system-packages" in runs  # the whole list, servers included
    listed = (PROJECT_DIR / ".ci" / "system-packages").read_text()
    for package in ("rsyslog", "mtail", "chromium", "prometheus-alertmanager", "nginx-light"):
        assert package in listed
    assert ".ci/system-packages" in (PROJECT_DIR / ".ci" / "run").read_text()
    assert "redis" in test_job["services"]
    assert stages["env"]["TEST_REDIS_URL"] == "redis://redis:6379/15"
    readiness_test = (PROJECT_DIR / "tests" / "ops" / "test_readiness.py").read_text()
    assert 'os.environ.get("TEST_REDIS_URL"' in readiness_test
    assert '"LOCATION": "redis://127.0.0.1:6379/15"' not in readiness_test
