"""The Terraform code is in the standard module shape, parses, and documents itself."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.terraform_code import (
    ENV_NAMES,
    ENVS,
    MODULE_NAMES,
    MODULES,
    ROOT,
    TERRAFORM,
    clean,
    config_dirs,
    parse,
    tf_files,
    top_blocks,
)

pytestmark = pytest.mark.static


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_tf_file_parses(path):
    assert isinstance(parse(path), dict)


def test_all_modules_and_environments_exist():
    assert sorted(p.name for p in MODULES.iterdir() if p.is_dir()) == sorted(MODULE_NAMES)
    assert sorted(p.name for p in ENVS.iterdir() if p.is_dir()) == sorted(ENV_NAMES)


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_module_has_the_standard_shape(module):
    directory = MODULES / module
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (directory / name).is_file(), f"{module}/{name} missing"
    examples = sorted((directory / "examples").glob("*/main.tf"))
    assert examples, f"{module} has no examples/<name>/main.tf"
    for example in examples:
        calls = top_blocks("module", example.parent)
        assert any(c.body["source"] == "../../" for c in calls.values()), example
    tests = sorted((directory / "tests").glob("*.tftest.hcl"))
    assert tests, f"{module} has no tests/*.tftest.hcl"
    for test in tests:
        parsed = parse(test)
        assert parsed.get("mock_provider"), f"{test} must mock its providers"
        assert parsed.get("run"), f"{test} has no run block"


def test_module_readmes_have_current_inputs_and_outputs_tables():
    script = TERRAFORM / "readme_tables.py"
    spec = importlib.util.spec_from_file_location("readme_tables", script)
    readme_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(readme_tables)
    assert readme_tables.main(["--check"]) == 0, "run: python deploy/terraform/readme_tables.py"
    for module in MODULE_NAMES:
        readme = (MODULES / module / "README.md").read_text(encoding="utf-8")
        for name in top_blocks("variable", MODULES / module):
            assert f"| `{name}` |" in readme, f"{module} README misses input {name}"
        for name in top_blocks("output", MODULES / module):
            assert f"| `{name}` |" in readme, f"{module} README misses output {name}"


def test_every_variable_has_a_type_and_a_description():
    problems = []
    for directory in config_dirs():
        for name, block in top_blocks("variable", directory).items():
            body = block.body
            if not body.get("type"):
                problems.append(f"{directory.relative_to(TERRAFORM)}: {name} has no type")
            if len(str(body.get("description", "")).strip()) < 10:
                problems.append(f"{directory.relative_to(TERRAFORM)}: {name} has no description")
    assert not problems


def test_every_output_has_a_description():
    for directory in config_dirs():
        for name, block in top_blocks("output", directory).items():
            assert str(block.body.get("description", "")).strip(), f"{directory}: {name}"


RANGE = re.compile(r"^(>=\s*[\d.]+,\s*<\s*[\d.]+|~>\s*[\d.]+)$")


@pytest.mark.parametrize(
    "directory",
    [MODULES / m for m in MODULE_NAMES] + [ENVS / e for e in ENV_NAMES] + [TERRAFORM / "bootstrap"],
    ids=lambda p: str(p.relative_to(TERRAFORM)),
)
def test_provider_versions_are_pinned_with_ranges(directory):
    settings = [clean(block) for block in parse(directory / "versions.tf")["terraform"]]
    [terraform] = settings
    assert str(terraform["required_version"]).startswith(">= 1."), directory
    [providers] = terraform["required_providers"]
    assert "aws" in providers
    for name, requirement in providers.items():
        assert requirement["source"].startswith("hashicorp/"), name
        assert RANGE.match(requirement["version"]), f"{name}: {requirement['version']}"
    used = {
        str(clean(k)).split("_")[0]
        for p in directory.glob("*.tf")
        for section in ("resource", "data")
        for entry in parse(p).get(section, [])
        for k in entry
    }
    assert used <= set(providers), f"{directory}: providers used but not pinned: {used}"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_environment_state_backend_is_s3_and_configured_at_init(env):
    directory = ENVS / env
    [backend_block] = clean(parse(directory / "backend.tf")["terraform"])[0]["backend"]
    assert backend_block == {"s3": {}}, "backend settings come from -backend-config, not code"
    example = clean(parse(directory / "backend.hcl.example"))
    assert example["key"] == f"{env}/terraform.tfstate"
    assert example["encrypt"] is True
    assert example.get("use_lockfile") is True or example.get("dynamodb_table")
    assert not (directory / "backend.hcl").exists(), "backend.hcl is per operator, not committed"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_environments_only_compose_modules(env):
    directory = ENVS / env
    calls = top_blocks("module", directory)
    assert sorted(calls) == sorted(MODULE_NAMES)
    for call in calls.values():
        assert call.body["source"].startswith("../../modules/")
    # Provider-specific resources live in modules, so another cloud can sit beside them.
    for path in directory.glob("*.tf"):
        assert not parse(path).get("resource"), f"{path} declares resources itself"
    assert list((directory / "tests").glob("*.tftest.hcl"))


def test_staging_and_production_differ_only_where_meant():
    staging = top_blocks("module", ENVS / "staging")
    production = top_blocks("module", ENVS / "production")
    assert production["database"].body["multi_az"] is True
    assert staging["database"].body["multi_az"] is False
    staging_vars = top_blocks("variable", ENVS / "staging")
    production_vars = top_blocks("variable", ENVS / "production")
    assert staging_vars["enable_managed_database"].body["default"] is False
    assert production_vars["enable_managed_database"].body["default"] is True


def test_hcl_is_formatted_as_terraform_fmt_would():
    files = [
        *tf_files(),
        *TERRAFORM.rglob("*.tftest.hcl"),
        *TERRAFORM.rglob("*.hcl.example"),
        *TERRAFORM.rglob("*.tfvars.example"),
    ]
    result = subprocess.run(
        ["node", str(Path(__file__).with_name("hcl_format.cjs")), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"not formatted (run terraform fmt):\n{result.stdout}"
