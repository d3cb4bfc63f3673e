"""Form pieces every app's pages use: wall-clock date-time inputs read in a given zone."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django import forms


def aware_in_zone(naive: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """``naive`` read in ``zone``; a wall time skipped by a DST change is an error.

    Django's DateTimeField has already attached the server's zone (UTC); only the wall
    time the person typed matters, so that zone is dropped first.
    """
    naive = naive.replace(tzinfo=None)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise forms.ValidationError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks change then)."
        )
    return aware


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
