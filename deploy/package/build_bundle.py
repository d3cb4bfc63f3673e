"""Build the release bundle of one commit: ``dist/bookdesk-<version>-<commit>.tar.gz``.

    python deploy/package/build_bundle.py [--ref HEAD] [--out dist] [--cache var/cache/wheelhouse]

The bundle is what a host installs, offline; its layout is documented in docs/deploy.md
("Release bundle"). It is built from the commit, never from the working tree (``git
archive``), so uncommitted changes cannot slip into a release, and it is reproducible: one
commit built twice gives the same bytes. Every time in it (file times, the wheel's zip
entries, the manifest's ``build_time``) is the commit's time, owners are root, modes are
0644/0755, members are sorted and gzip stores no time stamp.

Runs with the project's venv Python (``make package``): the wheel is built with the locked
build tools installed there (requirements/build.lock), without build isolation, so it
needs no index. The dependency wheels come from ``pip download --require-hashes`` of
requirements/app.lock, cached outside the bundle under a key made of the lock's hash and
the interpreter, so only the first build after a lock change downloads anything.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
import zipfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAYOUT_VERSION = 1
# The scripts of deploy/bin that a release runs (systemd units point at <release>/bin/...).
RELEASE_SCRIPTS = ("bookdesk-web", "bookdesk-worker")
# The bundle's own tools: verify the manifest, install offline into a venv.
BUNDLE_TOOLS = {
    "bookdesk-verify": "deploy/package/verify_bundle.py",
    "bookdesk-install": "deploy/package/bookdesk-install",
}


class BuildError(Exception):
    pass


def git(*args: str, cwd: Path = REPO) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {message}", file=sys.stderr, flush=True)


# --- the source: exactly the commit's files -----------------------------------------------


def export_commit(repo: Path, commit: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=repo, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "--no-same-owner", "-C", str(dest)], input=archive, check=True)
    # Modes as git records them (0644, or 0755 for executables), whatever the umask: the
    # wheel stores each file's mode.
    for path in sorted(dest.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
        elif path.is_file():
            path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)


# --- the wheels ---------------------------------------------------------------------------


def build_app_wheel(src: Path, dest: Path, epoch: int) -> Path:
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0"}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(dest), str(src)],
        check=True, env=env,
    )  # fmt: skip
    [wheel] = dest.glob("bookdesk-*.whl")
    return wheel


_MARKER = re.compile(r"^(\S+==\S+) ;[^\\]*(\\?)$")


def without_markers(lock_text: str) -> str:
    """The lock with every environment marker removed.

    app.lock is universal: a few lines apply only to some interpreters (async-timeout below
    Python 3.11.3, for instance). The wheelhouse must serve any Python 3.11 on the target,
    not just the one building, so it takes every line; pip applies the markers again when
    it installs from the real lock on the host.
    """
    return "\n".join(
        _MARKER.sub(lambda m: f"{m[1]} {m[2]}".rstrip(), line) for line in lock_text.splitlines()
    )


def interpreter_key() -> str:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return f"{tag}-{sysconfig.get_platform()}"


def wheelhouse(lock: Path, cache: Path) -> tuple[Path, bool]:
    """A directory with the wheel of every package in the lock; (path, downloaded now)."""
    key_source = lock.read_bytes() + interpreter_key().encode()
    key = hashlib.sha256(key_source).hexdigest()[:20]
    ready = cache / key
    if (ready / ".complete").is_file():
        return ready, False
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    try:
        requirements = partial / "requirements.txt"
        requirements.write_text(without_markers(lock.read_text()))
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--require-hashes", "--only-binary=:all:", "--dest", str(partial),
             "-r", str(requirements)],
            check=True,
        )  # fmt: skip
        requirements.unlink()
        (partial / ".complete").write_text(f"{interpreter_key()}\n")
        if ready.exists():
            shutil.rmtree(ready)
        partial.rename(ready)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
    return ready, True


def release_lock(app_lock: str, wheel: Path, version: str) -> str:
    """app.lock plus the app's own wheel: one hash-checked install of the whole release."""
    return (
        app_lock.rstrip("\n")
        + "\n# The application itself, the wheel in this bundle (added by build_bundle.py):\n"
        + f"bookdesk=={version} \\\n    --hash=sha256:{sha256_file(wheel)}\n"
    )


# --- static files -------------------------------------------------------------------------


def collect_static(wheels: Path, dest: Path, work: Path) -> None:
    """collectstatic as production serves it (hashed names, compressed copies), run on the
    very wheels of the bundle: they are unpacked into one directory and Python starts with
    only that and its standard library (-S), not the venv the build runs from."""
    site = work / "site"
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            # The wheels were just checked against the lock's hashes (or built here).
            archive.extractall(site)  # noqa: S202
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(site),
        "PYTHONDONTWRITEBYTECODE": "1",
        # Production settings refuse to load without these; throwaway values, used once.
        "BOOKDESK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "build.invalid",
        "DATABASE_URL": f"sqlite:///{work}/build.sqlite3",
        "EMAIL_URL": "smtp://build.invalid:25?tls=false",
        "VAR_DIR": str(work / "var"),
        "STATIC_ROOT": str(dest),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-S", "-m", "bookdesk", "collectstatic", "--noinput", "--verbosity", "0"],
        check=True, env=env, cwd=work,
    )  # fmt: skip
    # Django writes the manifest's paths in the order the files were found on disk, which
    # differs between file systems; sorted, the file is the same on every build.
    manifest = dest / "staticfiles.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data, sort_keys=True, indent=0))


# --- manifest and archive -----------------------------------------------------------------


def file_mode(path: Path) -> int:
    return 0o755 if path.stat().st_mode & 0o100 else 0o644


def bundle_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def write_manifest(root: Path, fields: dict) -> dict:
    files = {}
    for path in bundle_files(root):
        rel = path.relative_to(root).as_posix()
        files[rel] = {
            "sha256": sha256_file(path),
            "size": path.stat().st_size,
            "mode": f"{file_mode(path):04o}",
        }
    manifest = {**fields, "files": files}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def write_archive(root: Path, target: Path, epoch: int) -> None:
    """A tar.gz whose bytes depend only on the files: sorted members, root:root, fixed
    modes, every mtime the commit's, and a gzip header without a name or time."""
    members = sorted([root, *root.rglob("*")], key=lambda p: p.relative_to(root.parent).parts)
    partial = target.with_name(f".{target.name}.part")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in members:
            info = tarfile.TarInfo(path.relative_to(root.parent).as_posix())
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = path.stat().st_size
                info.mode = file_mode(path)
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
    partial.replace(target)


# --- the whole build ----------------------------------------------------------------------


def build(*, ref: str, out: Path, cache: Path, repo: Path = REPO) -> Path:
    started = time.monotonic()
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}", cwd=repo)
    epoch = int(git("show", "-s", "--format=%ct", commit, cwd=repo))
    if git("status", "--porcelain", "--untracked-files=no", cwd=repo) and ref == "HEAD":
        print(
            "note: the working tree has uncommitted changes; the bundle holds the commit only",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="bookdesk-bundle-") as tmp:
        work = Path(tmp)
        src = work / "src"
        export_commit(repo, commit, src)
        project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
        version = project["version"]
        name = f"bookdesk-{version}-{commit[:12]}"
        root = work / "bundle" / name
        wheels = root / "wheels"
        wheels.mkdir(parents=True)
        log(f"{name}: source of {commit} exported", started)

        app_wheel = build_app_wheel(src, wheels, epoch)
        log(f"wheel {app_wheel.name}", started)
        lock = src / "requirements" / "app.lock"
        house, downloaded = wheelhouse(lock, cache)
        for wheel in sorted(house.glob("*.whl")):
            shutil.copyfile(wheel, wheels / wheel.name)
        log(f"wheelhouse {'downloaded to' if downloaded else 'reused from'} {house}", started)

        requirements = root / "requirements"
        requirements.mkdir()
        shutil.copyfile(lock, requirements / "app.lock")
        (requirements / "release.lock").write_text(
            release_lock(lock.read_text(), app_wheel, version)
        )

        collect_static(wheels, root / "static", work / "collect")
        log("static files collected", started)

        bin_dir = root / "bin"
        bin_dir.mkdir()
        for script in RELEASE_SCRIPTS:
            shutil.copyfile(src / "deploy" / "bin" / script, bin_dir / script)
        for script, source in BUNDLE_TOOLS.items():
            shutil.copyfile(src / source, bin_dir / script)
        for script in bin_dir.iterdir():
            script.chmod(0o755)

        for path in root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else file_mode(path))
        manifest = write_manifest(
            root,
            {
                "name": "bookdesk",
                "layout": LAYOUT_VERSION,
                "version": version,
                "commit": commit,
                # The commit's time, not the clock's: builds of one commit stay identical.
                "build_time": datetime.fromtimestamp(epoch, UTC).isoformat(),
                "source_date_epoch": epoch,
                "python": {
                    "version": ".".join(map(str, sys.version_info[:3])),
                    "requires": project["requires-python"],
                    "platform": interpreter_key(),
                },
                "wheel": f"wheels/{app_wheel.name}",
                "install": "bin/bookdesk-install",
            },
        )
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.tar.gz"
        write_archive(root, target, epoch)
    digest = sha256_file(target)
    (out / f"{name}.tar.gz.sha256").write_text(f"{digest}  {target.name}\n")
    size_mb = target.stat().st_size / 1e6
    log(f"{target} ({len(manifest['files'])} files, {size_mb:.1f} MB, sha256 {digest})", started)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="HEAD", help="the commit to package (default HEAD)")
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("BOOKDESK_WHEELHOUSE_CACHE", REPO / "var/cache/wheelhouse")),
        help="where downloaded wheels are kept between builds",
    )
    args = parser.parse_args(argv)
    try:
        target = build(ref=args.ref, out=args.out.resolve(), cache=args.cache.resolve())
    except (BuildError, subprocess.CalledProcessError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
