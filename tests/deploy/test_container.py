"""The Containerfile's shape, and the entry point's dispatch to web / worker / commands.

No image is built here: `make image-test` (tests/deploy/test_image.py) builds it with
buildah on a local Debian base and runs it, and the GitHub workflow builds it with Docker.
"""

from __future__ import annotations

import os
import re
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


def test_image_is_built_from_a_verified_release_bundle():
    builder, final = stages()
    assert builder[0][1].endswith("AS builder")
    assert ("ARG", "BUNDLE") in builder
    copies = [rest for keyword, rest in builder if keyword == "COPY"]
    assert "${BUNDLE} /tmp/bundle.tar.gz" in copies
    [install] = [rest for keyword, rest in builder if keyword == "RUN" and "bundle.tar.gz" in rest]
    # Checked against its manifest, by this checkout's verifier, before anything is unpacked.
    assert install.startswith("python3 /usr/local/lib/bookdesk/verify_bundle.py /tmp/bundle.tar.gz")
    assert "deploy/package/verify_bundle.py /usr/local/lib/bookdesk/verify_bundle.py" in copies
    assert install.index("verify_bundle.py") < install.index("tar -xzf")
    # Installed offline by the bundle's own installer (--no-index --require-hashes).
    assert "bin/bookdesk-install /opt/bookdesk/venv" in install
    assert "pip install" not in " ".join(rest for _keyword, rest in builder)
    final_copies = [rest for keyword, rest in final if keyword == "COPY"]
    assert "--from=builder /opt/bookdesk /opt/bookdesk" in final_copies
    # Neither the source tree nor the wheels reach the final image.
    assert not any(c.split()[0] in ("src", "${BUNDLE}") for c in final_copies)


def test_entrypoint_finds_the_scripts_where_the_image_puts_them():
    builder = stages()[0]
    [install] = [rest for keyword, rest in builder if keyword == "RUN" and "bundle.tar.gz" in rest]
    assert "bookdesk-web /tmp/release/bin/bookdesk-worker /opt/bookdesk/bin/" in install
    assert 'bin="${BOOKDESK_BIN_DIR:-/opt/bookdesk/bin}"' in ENTRYPOINT.read_text()
    envs = " ".join(rest for keyword, rest in stages()[-1] if keyword == "ENV")
    assert "PATH=/opt/bookdesk/venv/bin:$PATH" in envs
    assert "STATIC_ROOT=/opt/bookdesk/static" in envs


def test_uploads_belong_to_the_web_servers_group_with_setgid():
    """nginx in Compose (uid and gid 101) reads attachments through the group; files stay
    unreadable for everyone else (docs/uploads-and-exports.md, Permissions)."""
    final = stages()[-1]
    assert ("ARG", "WEB_SERVER_GID=101") in final
    runs = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert 'install -d -o bookdesk -g "${WEB_SERVER_GID}" -m 2750 /srv/bookdesk/uploads' in runs
    compose = (ROOT / "deploy" / "compose" / "compose.yaml").read_text(encoding="utf-8")
    assert "image: nginx:1.28.0-alpine" in compose  # the official image: nginx is 101:101


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
    # The release bundle is the image's input.
    assert not any(entry.startswith("dist") for entry in ignored)
