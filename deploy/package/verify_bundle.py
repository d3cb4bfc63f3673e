#!/usr/bin/env python3
"""Check a Bookdesk release bundle against its manifest.json.

    verify_bundle.py dist/bookdesk-0.1.0-0123456789ab.tar.gz    # the archive, before unpacking
    verify_bundle.py /srv/bookdesk/releases/bookdesk-0.1.0-...   # an unpacked release
    <release>/bin/bookdesk-verify                                # the release it lives in

Every file the manifest names must be there with its size and SHA-256, and nothing else
may be: an archive holds only plain files and directories under its one top directory (no
links, absolute paths or ``..``), so it is safe to unpack once it passes. In an unpacked
release the virtual environment installed from it (``venv/`` at the top) is not part of
the bundle and is left out of the check.

Exit status 0 when the bundle matches, 1 with one line per problem when it does not.
Standard library only: it runs with the target's system Python before anything is
installed (the copy in the bundle is bin/bookdesk-verify).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tarfile
from pathlib import Path, PurePosixPath

REQUIRED_FIELDS = ("name", "version", "commit", "build_time", "python", "files")
# Made in an unpacked release by bin/bookdesk-install; not shipped.
INSTALLED_DIRS = ("venv",)


class BundleError(Exception):
    pass


def _sha256(handle) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _load_manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BundleError(f"manifest.json is not valid JSON: {exc}") from None
    missing = [field for field in REQUIRED_FIELDS if field not in manifest]
    if missing:
        raise BundleError(f"manifest.json lacks {', '.join(missing)}")
    return manifest


def _compare(manifest: dict, found: dict[str, tuple[str, int, int]], *, exact_modes: bool):
    """found: relative path -> (sha256, size, mode). Returns a list of problems."""
    problems = []
    expected = manifest["files"]
    for rel in sorted(expected.keys() - found.keys()):
        problems.append(f"{rel}: missing")
    for rel in sorted(found.keys() - expected.keys()):
        problems.append(f"{rel}: not in the manifest")
    for rel in sorted(expected.keys() & found.keys()):
        sha256, size, mode = found[rel]
        want = expected[rel]
        if size != want["size"] or sha256 != want["sha256"]:
            problems.append(f"{rel}: content differs (sha256 {sha256}, manifest {want['sha256']})")
        want_mode = int(want["mode"], 8)
        if exact_modes and mode != want_mode:
            problems.append(f"{rel}: mode {mode:04o}, manifest {want_mode:04o}")
        elif bool(mode & 0o100) != bool(want_mode & 0o100):
            problems.append(f"{rel}: executable bit differs from the manifest")
    return problems


def verify_archive(path: Path) -> tuple[dict, list[str]]:
    found: dict[str, tuple[str, int, int]] = {}
    problems: list[str] = []
    manifest_data = None
    top = None
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                raise BundleError(f"{member.name}: path leaves the bundle")
            if top is None:
                top = name.parts[0]
                if not top.startswith("bookdesk-"):
                    raise BundleError(f"{member.name}: the top directory is not bookdesk-*")
            if name.parts[0] != top:
                raise BundleError(f"{member.name}: outside the top directory {top}/")
            if member.isdir():
                continue
            if not member.isfile():
                raise BundleError(f"{member.name}: not a plain file or directory")
            rel = PurePosixPath(*name.parts[1:]).as_posix()
            if rel in found or (rel == "manifest.json" and manifest_data is not None):
                raise BundleError(f"{member.name}: appears twice")
            handle = tar.extractfile(member)
            if rel == "manifest.json":
                manifest_data = handle.read()
                continue
            sha256, size = _sha256(handle)
            found[rel] = (sha256, size, member.mode & 0o7777)
    if manifest_data is None:
        raise BundleError("no manifest.json at the top of the bundle")
    manifest = _load_manifest(manifest_data)
    problems += _compare(manifest, found, exact_modes=True)
    return manifest, problems


def verify_directory(root: Path) -> tuple[dict, list[str]]:
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise BundleError(f"no manifest.json in {root}")
    manifest = _load_manifest(manifest_path.read_bytes())
    found: dict[str, tuple[str, int, int]] = {}
    problems: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in INSTALLED_DIRS]
        for name in dirnames + filenames:
            path = here / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{rel}: a symbolic link")
            elif stat.S_ISREG(info.st_mode) and rel != "manifest.json":
                with path.open("rb") as handle:
                    sha256, size = _sha256(handle)
                found[rel] = (sha256, size, info.st_mode & 0o7777)
            elif not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
                problems.append(f"{rel}: not a plain file or directory")
    # Unpacking may apply a umask, so only the executable bit is compared here.
    problems += _compare(manifest, found, exact_modes=False)
    return manifest, problems


def verify(path: Path) -> tuple[dict, list[str]]:
    """(manifest, problems) for an archive or an unpacked bundle; BundleError if unreadable."""
    if path.is_dir():
        return verify_directory(path)
    try:
        return verify_archive(path)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{path}: not a readable .tar.gz ({exc})") from None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    # Without an argument: the unpacked release this copy (bin/bookdesk-verify) belongs to.
    path = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    try:
        manifest, problems = verify(path)
    except BundleError as exc:
        print(f"bundle {path}: {exc}", file=sys.stderr)
        return 1
    if problems:
        for problem in problems:
            print(f"bundle {path}: {problem}", file=sys.stderr)
        print(f"bundle {path}: FAILED ({len(problems)} problems)", file=sys.stderr)
        return 1
    print(
        f"bundle {path}: OK, bookdesk {manifest['version']} at {manifest['commit'][:12]}, "
        f"{len(manifest['files'])} files match manifest.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
