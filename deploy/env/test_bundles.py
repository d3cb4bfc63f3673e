"""Releases for the deploy test, made from a real bundle (make package) without rebuilding it.

    python deploy/env/test_bundles.py BUNDLE --label next --out DIR
    python deploy/env/test_bundles.py BUNDLE --label broken --break-readiness --out DIR

Each output is a bundle of its own: the same files as BUNDLE under a different release
stamp (the manifest's commit becomes a made-up id derived from the original commit and the
label, so the release directory and BOOKDESK_COMMIT differ), its manifest hashes and
archive rewritten exactly as make package writes them, so bookdesk-verify and the offline
install accept it. With --break-readiness the app's wheel also gets one more readiness
check that always fails: the release installs, migrates and starts, but /readyz answers
503 for ever, which is what a deploy must refuse to send traffic to.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "package"))

import build_bundle  # noqa: E402 - the bundle's own writer, so the format stays one

READINESS = "bookdesk/ops/readiness.py"
CHECKS_LINE = "CHECKS: dict[str, Callable[[], dict]] = {\n"
BROKEN_CHECK = (
    '    "release:brokenOnPurpose": lambda: _result(\n'
    '        "component", FAIL, output="this release fails readiness on purpose (deploy test)"\n'
    "    ),\n"
)


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def break_readiness(wheel: Path) -> None:
    """Add an always-failing check to the wheel's readiness module (RECORD kept true)."""
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    patched = []
    record_name = next(info.filename for info, _ in entries if info.filename.endswith("RECORD"))
    for info, data in entries:
        if info.filename == READINESS:
            text = data.decode()
            if CHECKS_LINE not in text:
                raise SystemExit(f"{READINESS} has no {CHECKS_LINE.strip()!r} to extend")
            data = text.replace(CHECKS_LINE, CHECKS_LINE + BROKEN_CHECK, 1).encode()
        patched.append((info, data))
    lines = []
    contents = {info.filename: data for info, data in patched}
    for info, data in patched:
        if info.filename != record_name:
            lines.append(f"{info.filename},{record_hash(data)},{len(data)}")
    lines.append(f"{record_name},,")
    contents[record_name] = ("\n".join(lines) + "\n").encode()
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info, _ in patched:
            out.writestr(info, contents[info.filename])
    tmp.replace(wheel)


def make(bundle: Path, label: str, out: Path, *, broken: bool) -> Path:
    with tempfile.TemporaryDirectory(prefix="bookdesk-test-bundle-") as tmp:
        work = Path(tmp)
        with tarfile.open(bundle) as archive:
            archive.extractall(work, filter="data")
        [root] = [p for p in work.iterdir() if p.is_dir()]
        manifest = json.loads((root / "manifest.json").read_text())
        commit = hashlib.sha1(  # noqa: S324 - an id, not security
            f"{manifest['commit']} {label}".encode()
        ).hexdigest()
        wheel = root / manifest["wheel"]
        if broken:
            break_readiness(wheel)
            lock = root / "requirements" / "release.lock"
            lock.write_text(
                build_bundle.release_lock(
                    (root / "requirements" / "app.lock").read_text(), wheel, manifest["version"]
                )
            )
        name = f"bookdesk-{manifest['version']}-{commit[:12]}"
        new_root = work / name
        root.rename(new_root)
        (new_root / "manifest.json").unlink()
        fields = {k: v for k, v in manifest.items() if k != "files"}
        fields["commit"] = commit
        fields["test_release"] = {"from": manifest["commit"], "label": label, "broken": broken}
        build_bundle.write_manifest(new_root, fields)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.tar.gz"
        build_bundle.write_archive(new_root, target, int(manifest["source_date_epoch"]))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--label", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--break-readiness", action="store_true")
    args = parser.parse_args()
    print(make(args.bundle, args.label, args.out, broken=args.break_readiness))


if __name__ == "__main__":
    main()
