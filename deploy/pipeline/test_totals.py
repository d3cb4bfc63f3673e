"""Add up the JUnit files of the test passes into one closing line:
`tests: 2412 passed, 0 failed, 3 skipped` (make test prints it last).

Standard library only; reads the files pytest itself just wrote.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Only pytest's own JUnit files from this run are read (bandit's B405/B314 are about
# untrusted XML).
from xml.etree import ElementTree as ET  # nosec B405


def totals(paths: list[Path]) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        root = ET.parse(path).getroot()  # noqa: S314  # nosec B314
        suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
        for suite in suites:
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    return counts


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv if Path(p).exists()]
    if not paths:
        print("tests: no JUnit file found: did the passes run?")
        return 1
    counts = totals(paths)
    failed = counts["failures"] + counts["errors"]
    passed = counts["tests"] - failed - counts["skipped"]
    print(f"tests: {passed} passed, {failed} failed, {counts['skipped']} skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
