"""The Containerfile's shape, and the entry point's dispatch to web / worker / commands.

No image is built here (no Docker engine or registry access on these machines); the
GitHub workflow builds it.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess

import pytest

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.static

CONTAINER = ROOT / "deploy" / "container"
ENTRYPOINT = CONTAINER / "entrypoint.sh"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (CONTAINER / "Containerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def test_base_image_is_a_build_argument_pinned_by_tag():
    keyword, arg = instructions()[0]
    assert keyword == "ARG", "the base image ARG comes before any FROM"
    name, _, default = arg.partition("=")
    assert name == "PYTHON_IMAGE"
    image, _, tag = default.partition(":")
    assert image == "python"
    assert re.fullmatch(r"3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", tag), tag
    for stage in stages():
        assert stage[0][1].startswith("${PYTHON_IMAGE} AS "), stage[0]


def test_build_is_multi_stage_with_a_locked_builder():
    builder, final = stages()
    assert builder[0][1].endswith("AS builder")
    runs = " ".join(rest for keyword, rest in builder if keyword == "RUN")
    assert "--require-hashes" in runs and "requirements/app.lock" in runs
    assert "pip wheel" in runs and "bookdesk-*.whl" in runs
    assert "collectstatic" in runs
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert any(c.startswith("--from=builder /opt/bookdesk ") for c in copies)
    # The source tree stays in the builder: the final image gets the installed wheel only.
    assert not any(c.split()[0] == "src" for c in copies)


def test_final_stage_runs_as_a_non_root_user():
    final = stages()[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    runs = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert "useradd --system --uid 10001 --gid bookdesk" in runs
    assert user == "bookdesk"


def test_healthcheck_probes_healthz_without_curl():
    final = stages()[-1]
    [healthcheck] = [rest for keyword, rest in final if keyword == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "curl" not in healthcheck
    assert '"python", "-c"' in healthcheck
    envs = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "BIND=0.0.0.0:8000" in envs


def test_single_entrypoint_defaults_to_web():
    final = stages()[-1]
    assert ("ENTRYPOINT", '["/usr/local/bin/bookdesk-entrypoint"]') in final
    assert ("CMD", '["web"]') in final


@pytest.fixture
def stub_bin(tmp_path):
    """Stand-ins for deploy/bin scripts and the bookdesk command that print their argv."""
    for name in ("bookdesk-web", "bookdesk-worker", "bookdesk"):
        script = tmp_path / name
        script.write_text(f'#!/bin/sh\necho "{name} $*"\n', encoding="utf-8")
        script.chmod(0o755)
    return tmp_path


def run_entrypoint(stub_bin, *args: str) -> str:
    env = {
        **os.environ,
        "BOOKDESK_BIN_DIR": str(stub_bin),
        "PATH": f"{stub_bin}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "bookdesk-web"),
        (("web",), "bookdesk-web"),
        (("web", "--check-config"), "bookdesk-web --check-config"),
        (("worker", "--once"), "bookdesk-worker --once"),
        (("migrate",), "bookdesk migrate --noinput"),
        (
            ("createsuperuser", "--email", "a@example.org"),
            "bookdesk createsuperuser --email a@example.org",
        ),
    ],
)
def test_entrypoint_dispatches_each_role(stub_bin, args, expected):
    assert run_entrypoint(stub_bin, *args) == expected


def test_entrypoint_is_valid_posix_sh():
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)
    assert os.access(ENTRYPOINT, os.X_OK)


def test_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "node_modules", "var", ".env"):
        assert entry in ignored


def test_build_time_collectstatic_works_with_the_settings(tmp_path):
    """Run the builder's collectstatic step as written, with this checkout's venv: a
    settings change that breaks the image build fails here first."""
    builder = stages()[0]
    [step] = [rest for keyword, rest in builder if keyword == "RUN" and "collectstatic" in rest]
    tokens = shlex.split(step)
    env = {"PATH": os.environ["PATH"]}
    while "=" in tokens[0] and not tokens[0].startswith("/"):
        name, _, value = tokens.pop(0).partition("=")
        env[name] = value
    assert env["BOOKDESK_ENV"] == "production", "static files must be collected as deployed"
    # The key is made at build time by a $(...) command; any throwaway key does here.
    assert env["SECRET_KEY"].startswith("$(")
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env.update(VAR_DIR=str(tmp_path / "var"), STATIC_ROOT=str(tmp_path / "static"))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/build.sqlite3"
    assert tokens[0] == "/opt/bookdesk/bin/bookdesk"
    command = [str(ROOT / ".venv" / "bin" / "bookdesk"), *tokens[1:]]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    assert (tmp_path / "static" / "staticfiles.json").is_file()
