"""Shared by the benchmarks: describe the machine, and keep a results file as one section per
benchmark variant, rewritten on each run (so re-running one variant keeps the others)."""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_section(results: Path, title: str, name: str, machine: str, lines: list[str]) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    text = results.read_text() if results.exists() else title
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = f"## {name}\n\nRun {stamp} on {machine}.\n\n" + "\n".join(lines) + "\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    results.write_text(text.rstrip("\n") + "\n")
