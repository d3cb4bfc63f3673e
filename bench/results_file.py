"""Keep bench/results/exports.md as one section per benchmark, rewritten on each run."""

from __future__ import annotations

import re
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "exports.md"
TITLE = "# Export benchmarks\n\nWritten by `bench/export_csv.py` and `bench/export_xlsx.py`.\n"


def write_section(name: str, machine: str, lines: list[str]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text() if RESULTS.exists() else TITLE
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = f"## {name}\n\nRun {stamp} on {machine}.\n\n" + "\n".join(lines) + "\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text.rstrip("\n") + "\n")
