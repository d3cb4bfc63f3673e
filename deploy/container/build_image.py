"""Build the container image from the release bundle of one commit (`make image`).

    python deploy/container/build_image.py [--bundle dist/bookdesk-....tar.gz] [--local-base]

Without --bundle it first builds the bundle of HEAD (deploy/package/build_bundle.py, as
`make package` does). The image is tagged ``localhost/bookdesk:<version>-<commit>`` and
``bookdesk:local`` (the name Compose runs); its ID is written next to the bundle, in
``dist/bookdesk-<version>-<commit>.image-id``, so the pipeline can record both together.

``--local-base`` builds on a Debian base made on this machine (local_base.py) instead of
the registry's python image, for machines without registry access. IMAGE_BUILDER chooses
the tool: ``buildah`` (default; ``bud --isolation chroot --format docker``) or ``docker``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(REPO / "deploy" / "package")]

import build_bundle  # noqa: E402
import local_base  # noqa: E402

CONTAINERFILE = HERE / "Containerfile"
BUILDERS = {
    "buildah": ["buildah", "bud", "--isolation", "chroot", "--format", "docker"],
    "docker": ["docker", "build"],
}


def bundle_manifest(bundle: Path) -> dict:
    with tarfile.open(bundle, "r:gz") as tar:
        top = bundle.name.removesuffix(".tar.gz")
        return json.load(tar.extractfile(f"{top}/manifest.json"))


def build_image(
    bundle: Path,
    *,
    base: str | None = None,
    builder: str = "buildah",
    tags: list[str] | None = None,
) -> str:
    """Build the image of ``bundle`` (which must lie inside the repository, the build
    context); returns the image ID."""
    bundle = bundle.resolve()
    manifest = bundle_manifest(bundle)
    name = bundle.name.removesuffix(".tar.gz")
    if tags is None:
        # The name Compose runs (deploy/compose/compose.yaml: image: bookdesk:local) too.
        tags = [f"localhost/bookdesk:{manifest['version']}-{manifest['commit'][:12]}"]
        tags.append("bookdesk:local")
    id_file = bundle.with_name(f"{name}.image-id")
    command = [
        *BUILDERS[builder],
        "--file", str(CONTAINERFILE),
        "--build-arg", f"BUNDLE={bundle.relative_to(REPO)}",
        "--build-arg", f"BOOKDESK_COMMIT={manifest['commit']}",
        "--build-arg", f"BOOKDESK_VERSION={manifest['version']}",
        "--iidfile", str(id_file),
    ]  # fmt: skip
    for tag in tags:
        command += ["--tag", tag]
    if base:
        command += ["--build-arg", f"PYTHON_IMAGE={base}"]
    subprocess.run([*command, str(REPO)], check=True)
    image_id = id_file.read_text().strip()
    print(f"{' '.join(tags)} {image_id}", file=sys.stderr)
    return image_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="a bundle under dist/ (default: build HEAD's)")
    parser.add_argument(
        "--local-base", action="store_true", help="build on a local Debian base (no registry)"
    )
    args = parser.parse_args(argv)
    builder = os.environ.get("IMAGE_BUILDER", "buildah")
    if builder not in BUILDERS:
        parser.error(f"IMAGE_BUILDER must be one of {', '.join(BUILDERS)}")
    try:
        bundle = args.bundle or build_bundle.build(
            ref="HEAD", out=REPO / "dist", cache=REPO / "var" / "cache" / "wheelhouse"
        )
        base = local_base.ensure_base_image() if args.local_base else None
        print(build_image(bundle, base=base, builder=builder))
    except (build_bundle.BuildError, local_base.BaseImageError) as exc:
        print(f"build_image: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"build_image: {exc}", file=sys.stderr)
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
