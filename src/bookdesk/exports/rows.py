"""The export row: one booking as every format and the COPY path read it.

One flat NamedTuple per booking (no model instances: a million rows must not build a
million objects). ``SOURCES`` names, field by field, where each value is read from, so
the selector, the writers and PostgreSQL's COPY (pgcopy.py) all follow this one list.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class ExportRow(NamedTuple):
    id: int
    resource: str
    location: str
    requester: str
    title: str
    purpose: str
    attendees: int
    status: str
    start: datetime
    end: datetime
    timezone: str
    created_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str


# Where each field comes from: a lookup on Booking.
SOURCES = ExportRow(
    id="id",  # type: ignore[arg-type]  # the same shape, holding lookups
    resource="resource__name",
    location="resource__location",
    requester="requester__email",
    title="title",
    purpose="purpose",
    attendees="attendees",  # type: ignore[arg-type]
    status="status",
    start="start",  # type: ignore[arg-type]
    end="end",  # type: ignore[arg-type]
    timezone="resource__timezone",
    created_at="created_at",  # type: ignore[arg-type]
    updated_at="updated_at",  # type: ignore[arg-type]
    decided_by="decided_by__email",
    decided_at="decided_at",  # type: ignore[arg-type]
    decision_reason="decision_reason",
)

# The columns of CSV and XLSX, in order: every field but updated_at (iCalendar's).
COLUMNS: tuple[str, ...] = tuple(name for name in ExportRow._fields if name != "updated_at")
