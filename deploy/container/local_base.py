"""A local Debian 12 base image for buildah, on machines that cannot reach a registry.

The Containerfile's base is its build argument PYTHON_IMAGE (python:3.11.x-slim-bookworm
by default). Where no registry answers, this makes a stand-in from Debian's own packages:
``debootstrap --variant=minbase bookworm`` with Python 3.11 and its venv module, from the
Debian mirror this machine's apt sources name, committed as the buildah image
``localhost/bookdesk-base:<key>``.

The key is a hash of everything that goes into the root (suite, variant, packages, mirror,
architecture). The root file system is also kept as a tarball under
/var/cache/bookdesk/image-base/ (BOOKDESK_IMAGE_CACHE), so a machine whose buildah storage
was reset imports it in seconds instead of running debootstrap again (about 90 s).

    python deploy/container/local_base.py      # prints the image name, making it if needed
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
# What python:3.11-slim-bookworm gives the image too: Python 3.11 with venv, CA certificates.
# python3-distutils is named because debootstrap does not resolve virtual packages
# (python3.11-venv depends on python3.11-distutils, which it provides).
PACKAGES = ("python3.11", "python3.11-venv", "python3-distutils", "ca-certificates")
CACHE = Path(os.environ.get("BOOKDESK_IMAGE_CACHE", "/var/cache/bookdesk/image-base"))
APT_SOURCES = Path("/etc/apt")
IMAGE = "localhost/bookdesk-base"


class BaseImageError(Exception):
    pass


def _one_line_sources(text: str):
    """(uri, suites) of the `deb` lines of a sources.list file."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        line = re.sub(r"\[[^\]]*\]", " ", line)  # options such as [signed-by=...]
        parts = line.split()
        if len(parts) >= 3:
            yield parts[1], [parts[2]]


def _deb822_sources(text: str):
    """(uri, suites) of the enabled `deb` stanzas of a .sources file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        current = None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and current:
                fields[current] += " " + line.strip()
            elif ":" in line:
                current, _, value = line.partition(":")
                current = current.strip().lower()
                fields[current] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


def apt_mirror(apt_dir: Path = APT_SOURCES, suite: str = SUITE) -> str:
    """The Debian archive this machine's apt uses for ``suite`` itself (not -security or
    -updates). DEBIAN_MIRROR overrides it."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"]
    found = []
    plain = apt_dir / "sources.list"
    if plain.is_file():
        found += _one_line_sources(plain.read_text())
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.glob("*.list")):
            found += _one_line_sources(path.read_text())
        for path in sorted(parts.glob("*.sources")):
            found += _deb822_sources(path.read_text())
    for uri, suites in found:
        if suite in suites:
            return uri.rstrip("/")
    raise BaseImageError(
        f"no apt source for Debian {suite} in {apt_dir}; set DEBIAN_MIRROR to a Debian mirror URL"
    )


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
    ).stdout.strip()


def base_key(mirror: str, arch: str) -> str:
    inputs = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(PACKAGES),
        "mirror": mirror,
        "arch": arch,
        "recipe": 1,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _image_exists(name: str) -> bool:
    probe = subprocess.run(["buildah", "inspect", "--type", "image", name], capture_output=True)
    return probe.returncode == 0


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _debootstrap(tarball: Path, mirror: str, arch: str) -> None:
    with tempfile.TemporaryDirectory(prefix="root-", dir=tarball.parent) as tmp:
        root = Path(tmp) / "root"
        result = subprocess.run(
            ["debootstrap", f"--variant={VARIANT}", f"--arch={arch}",
             f"--include={','.join(PACKAGES)}", SUITE, str(root), mirror],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            log = root / "debootstrap" / "debootstrap.log"
            details = log.read_text()[-3000:] if log.is_file() else result.stderr[-3000:]
            raise BaseImageError(f"debootstrap failed:\n{details}")
        # What an image does not need: downloaded packages and package lists.
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_name(tarball.name + ".part")
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."],
            check=True,
        )
        partial.replace(tarball)


def _commit(tarball: Path, name: str) -> None:
    container = subprocess.run(
        ["buildah", "from", "scratch"], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        mount = subprocess.run(
            ["buildah", "mount", container], check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "-C", mount, "-xf", str(tarball)], check=True
        )
        subprocess.run(["buildah", "umount", container], check=True, capture_output=True)
        subprocess.run(
            ["buildah", "config",
             "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--env", "LANG=C.UTF-8", "--cmd", "python3",
             "--label", f"org.opencontainers.image.title=bookdesk-base {SUITE} {VARIANT}",
             container],
            check=True,
        )  # fmt: skip
        subprocess.run(
            ["buildah", "commit", "--quiet", "--format", "docker", container, name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True)


def ensure_base_image() -> str:
    """The name of the local base image, made (or imported from the cache) if missing."""
    for tool in ("buildah", "debootstrap", "tar"):
        if not shutil.which(tool):
            raise BaseImageError(f"{tool} is not installed (apt-get install {tool})")
    mirror = apt_mirror()
    arch = architecture()
    key = base_key(mirror, arch)
    name = f"{IMAGE}:{key}"
    with _locked(CACHE / ".lock"):
        if _image_exists(name):
            return name
        tarball = CACHE / f"{SUITE}-{VARIANT}-{key}.tar"
        if not tarball.is_file():
            _debootstrap(tarball, mirror, arch)
        _commit(tarball, name)
    return name


if __name__ == "__main__":
    try:
        print(ensure_base_image())
    except (BaseImageError, subprocess.CalledProcessError) as exc:
        print(f"local_base: {exc}", file=sys.stderr)
        sys.exit(1)
