"""Print an environment's URL from var/env/urls.json (written by `make env-up`).

    env_url.py staging                      -> {"staging": URL, ...}["staging"]
    env_url.py alertmanager.production      -> {"alertmanager": {"production": URL}}
    env_url.py --optional alertmanager.x    -> prints nothing (exit 0) when absent

Standard library only. A missing file or key is one plain line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def lookup(data: dict, key: str):
    value = data
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) and value else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key")
    parser.add_argument("--file", type=Path, default=Path("var/env/urls.json"))
    parser.add_argument("--optional", action="store_true")
    args = parser.parse_args(argv)
    if not args.file.exists():
        if args.optional:
            return 0
        print(
            f"not available: {args.file} does not exist: make env-up has not been run "
            "(or not built yet: issue 10); or give BASE_URL=",
            file=sys.stderr,
        )
        return 1
    url = lookup(json.loads(args.file.read_text()), args.key)
    if url is None:
        if args.optional:
            return 0
        print(f"not available: {args.file} has no URL for {args.key!r}", file=sys.stderr)
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
