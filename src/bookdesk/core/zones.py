"""Time zones by name, as resources store them."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

UTC = zoneinfo.ZoneInfo("UTC")


@lru_cache(maxsize=512)
def zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; UTC when it is empty or unknown (shown, never guessed at)."""
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC
