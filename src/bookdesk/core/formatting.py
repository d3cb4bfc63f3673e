"""Numbers as people read them."""

from __future__ import annotations


def format_bytes(size: int) -> str:
    """``512 bytes``, ``1.5 KB``, ``20.0 MB`` (binary multiples)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
