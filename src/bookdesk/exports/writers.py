"""CSV, XLSX and iCalendar writers over export rows (tuples in EXPORT_FIELDS order).

All three consume rows one at a time, so memory does not grow with the export: CSV and
iCalendar are generators of bytes for a streaming response; XLSX goes through openpyxl's
write-only workbook into a temporary file that is then streamed.

Spreadsheet safety: text that a spreadsheet could take for a formula (starting with
``= + - @``, tab, CR or LF) gets a leading apostrophe in CSV, and is written as an explicit
text cell with the quote-prefix style in XLSX (never a formula).
"""

from __future__ import annotations

import csv
import io
import tempfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from django.conf import settings

HEADER = [
    "id",
    "resource",
    "location",
    "requester",
    "title",
    "purpose",
    "attendees",
    "status",
    "start",
    "end",
    "timezone",
    "created_at",
    "decided_by",
    "decided_at",
    "decision_reason",
]
XLSX_HEADER = [
    *HEADER[:8],
    "start (local)",
    "end (local)",
    "timezone",
    "created_at (UTC)",
    "decided_by",
    "decided_at (UTC)",
    "decision_reason",
]
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")

ProgressFn = Callable[[int], None]


def neutralise(text: str) -> str:
    """Text that cannot start a formula when a spreadsheet opens the CSV."""
    if text and text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


class _Zones(dict):
    def __missing__(self, name: str) -> zoneinfo.ZoneInfo:
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        self[name] = zone
        return zone


def _utc_iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else ""


# --- CSV ------------------------------------------------------------------------------------


def csv_chunks(
    rows: Iterable[tuple], *, batch: int = 1000, progress: ProgressFn | None = None
) -> Iterator[bytes]:
    """Encoded CSV, a batch of rows per chunk (fewer, bigger writes to the socket).

    Times are to the second and lines end in CRLF (RFC 4180; with LF alone, Python's writer
    would leave a field holding a lone CR unquoted). pgcopy.py makes the same bytes faster
    on PostgreSQL.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    zones = _Zones()
    pending = 0
    done = 0
    for (
        pk,
        resource,
        location,
        requester,
        title,
        purpose,
        attendees,
        status,
        start,
        end,
        tz,
        created_at,
        _updated_at,
        decided_by,
        decided_at,
        reason,
    ) in rows:
        zone = zones[tz]
        writer.writerow(
            (
                pk,
                neutralise(resource),
                neutralise(location),
                neutralise(requester),
                neutralise(title),
                neutralise(purpose),
                attendees,
                status,
                start.astimezone(zone).isoformat(timespec="seconds"),
                end.astimezone(zone).isoformat(timespec="seconds"),
                tz,
                _utc_iso(created_at),
                neutralise(decided_by or ""),
                _utc_iso(decided_at),
                neutralise(reason),
            )
        )
        pending += 1
        if pending >= batch:
            done += pending
            pending = 0
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress(done)
    done += pending
    yield buffer.getvalue().encode("utf-8")
    if progress is not None:
        progress(done)


# --- XLSX -----------------------------------------------------------------------------------


def write_xlsx(rows: Iterable[tuple], target, *, progress: ProgressFn | None = None) -> int:
    """Write an XLSX workbook of ``rows`` to ``target`` (path or binary file); returns rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Bookings")
    sheet.freeze_panes = "A2"
    widths = {"B": 24, "D": 28, "E": 32, "I": 19, "J": 19, "L": 19, "N": 19}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    sheet.append(XLSX_HEADER)

    def text(value: str | None):
        if not value:
            return value or None
        if value.startswith(DANGEROUS_PREFIXES):
            # Explicit string type: openpyxl would otherwise store "=…" as a formula, and
            # the quote prefix keeps Excel from turning it into one when the cell is edited.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        return value

    zones = _Zones()
    count = 0
    for (
        pk,
        resource,
        location,
        requester,
        title,
        purpose,
        attendees,
        status,
        start,
        end,
        tz,
        created_at,
        _updated_at,
        decided_by,
        decided_at,
        reason,
    ) in rows:
        zone = zones[tz]
        sheet.append(
            (
                pk,
                text(resource),
                text(location),
                text(requester),
                text(title),
                text(purpose),
                attendees,
                status,
                # Real date-times, as the resource's wall clock (Excel has no time zones);
                # the timezone column names the zone.
                start.astimezone(zone).replace(tzinfo=None),
                end.astimezone(zone).replace(tzinfo=None),
                tz,
                created_at.astimezone(UTC).replace(tzinfo=None) if created_at else None,
                text(decided_by),
                decided_at.astimezone(UTC).replace(tzinfo=None) if decided_at else None,
                text(reason),
            )
        )
        count += 1
        if progress is not None and count % 2000 == 0:
            progress(count)
    workbook.save(target)
    if progress is not None:
        progress(count)
    return count


def xlsx_tempfile(rows: Iterable[tuple]) -> tuple[BinaryIO, int]:
    """The workbook in an unnamed temporary file (gone when closed), rewound, and its rows."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    count = write_xlsx(rows, handle)
    handle.seek(0)
    return handle, count


# --- iCalendar ------------------------------------------------------------------------------

ICAL_STATUS = {
    "approved": "CONFIRMED",
    "pending": "TENTATIVE",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
    "expired": "CANCELLED",
}


def booking_uid(pk: int) -> str:
    """Stable across exports and feeds, so calendar apps update events instead of doubling."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"booking-{pk}@{host or 'bookdesk'}"


def ics_chunks(
    rows: Iterable[tuple],
    *,
    name: str = "Bookdesk bookings",
    progress: ProgressFn | None = None,
) -> Iterator[bytes]:
    """An RFC 5545 calendar, one VEVENT per booking, times in UTC."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Bookdesk//Bookings export//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    head = calendar.to_ical().decode("utf-8")
    # to_ical() closes the calendar; stream its head, the events, then the closing line.
    yield head.removesuffix("END:VCALENDAR\r\n").encode("utf-8")
    count = 0
    for (
        pk,
        resource,
        location,
        requester,
        title,
        purpose,
        _attendees,
        status,
        start,
        end,
        _tz,
        created_at,
        updated_at,
        _decided_by,
        _decided_at,
        _reason,
    ) in rows:
        event = Event()
        event.add("uid", booking_uid(pk))
        event.add("dtstamp", (updated_at or created_at).astimezone(UTC))
        event.add("dtstart", start.astimezone(UTC))
        event.add("dtend", end.astimezone(UTC))
        event.add("summary", title)
        event.add("location", ", ".join(p for p in (resource, location) if p))
        description = f"Requested by {requester}. Status: {status}."
        if purpose:
            description += f"\n\n{purpose}"
        event.add("description", description)
        event.add("status", ICAL_STATUS.get(status, "TENTATIVE"))
        event.add("created", created_at.astimezone(UTC))
        event.add("last-modified", updated_at.astimezone(UTC))
        yield event.to_ical()
        count += 1
        if progress is not None and count % 2000 == 0:
            progress(count)
    yield b"END:VCALENDAR\r\n"
    if progress is not None:
        progress(count)
