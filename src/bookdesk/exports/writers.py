"""CSV, XLSX and iCalendar writers over export rows (``rows.ExportRow``).

All three consume rows one at a time, so memory does not grow with the export: CSV and
iCalendar are generators of bytes for a streaming response; XLSX goes through openpyxl's
write-only workbook into a temporary file that is then streamed.

Spreadsheet safety: text that a spreadsheet could take for a formula (starting with
``= + - @``, tab, CR or LF) gets a leading apostrophe in CSV, and is written as an explicit
text cell with the quote-prefix style in XLSX (never a formula).

Any text a person can store exports in every format. CSV carries it exactly. XLSX is XML,
which cannot hold C0 control characters other than tab, LF and CR, nor U+FFFE/U+FFFF;
iCalendar text (RFC 5545) holds no control character but tab and writes line breaks as
``\n``. Those characters become U+FFFD (and CR or CRLF a line break in iCalendar), rather
than failing the whole export for everyone who exports that booking.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from bookdesk.bookings.ics import booking_uid
from bookdesk.core.zones import zone_named
from bookdesk.exports.rows import COLUMNS, ExportRow

HEADER = list(COLUMNS)
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

_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_IN_ICAL_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    """``text`` with each character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_IN_XML.sub(REPLACEMENT, text)


def ical_safe(text: str) -> str:
    """``text`` as iCalendar TEXT can hold it: line breaks as LF, other controls U+FFFD."""
    return _NOT_IN_ICAL_TEXT.sub(REPLACEMENT, text.replace("\r\n", "\n").replace("\r", "\n"))


def neutralise(text: str) -> str:
    """Text that cannot start a formula when a spreadsheet opens the CSV."""
    if text and text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def _utc_iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else ""


def _naive_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


# --- CSV ------------------------------------------------------------------------------------


def csv_chunks(
    rows: Iterable[ExportRow], *, batch: int = 1000, progress: ProgressFn | None = None
) -> Iterator[bytes]:
    """Encoded CSV, a batch of rows per chunk (fewer, bigger writes to the socket).

    Times are to the second and lines end in CRLF (RFC 4180; with LF alone, Python's writer
    would leave a field holding a lone CR unquoted). pgcopy.py makes the same bytes faster
    on PostgreSQL.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    pending = 0
    done = 0
    for row in rows:
        zone = zone_named(row.timezone)
        writer.writerow(
            (
                row.id,
                neutralise(row.resource),
                neutralise(row.location),
                neutralise(row.requester),
                neutralise(row.title),
                neutralise(row.purpose),
                row.attendees,
                row.status,
                row.start.astimezone(zone).isoformat(timespec="seconds"),
                row.end.astimezone(zone).isoformat(timespec="seconds"),
                row.timezone,
                _utc_iso(row.created_at),
                neutralise(row.decided_by or ""),
                _utc_iso(row.decided_at),
                neutralise(row.decision_reason),
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


def write_xlsx(rows: Iterable[ExportRow], target, *, progress: ProgressFn | None = None) -> int:
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
        value = xml_safe(value)
        if value.startswith(DANGEROUS_PREFIXES):
            # Explicit string type: openpyxl would otherwise store "=…" as a formula, and
            # the quote prefix keeps Excel from turning it into one when the cell is edited.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        return value

    count = 0
    for row in rows:
        zone = zone_named(row.timezone)
        sheet.append(
            (
                row.id,
                text(row.resource),
                text(row.location),
                text(row.requester),
                text(row.title),
                text(row.purpose),
                row.attendees,
                row.status,
                # Real date-times, as the resource's wall clock (Excel has no time zones);
                # the timezone column names the zone.
                row.start.astimezone(zone).replace(tzinfo=None),
                row.end.astimezone(zone).replace(tzinfo=None),
                row.timezone,
                _naive_utc(row.created_at),
                text(row.decided_by),
                _naive_utc(row.decided_at),
                text(row.decision_reason),
            )
        )
        count += 1
        if progress is not None and count % 2000 == 0:
            progress(count)
    workbook.save(target)
    if progress is not None:
        progress(count)
    return count


def xlsx_tempfile(rows: Iterable[ExportRow]) -> tuple[BinaryIO, int]:
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


def ics_chunks(
    rows: Iterable[ExportRow],
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
    for row in rows:
        event = Event()
        event.add("uid", booking_uid(row.id))
        event.add("dtstamp", (row.updated_at or row.created_at).astimezone(UTC))
        event.add("dtstart", row.start.astimezone(UTC))
        event.add("dtend", row.end.astimezone(UTC))
        event.add("summary", ical_safe(row.title))
        event.add("location", ical_safe(", ".join(p for p in (row.resource, row.location) if p)))
        description = f"Requested by {row.requester}. Status: {row.status}."
        if row.purpose:
            description += f"\n\n{row.purpose}"
        event.add("description", ical_safe(description))
        event.add("status", ICAL_STATUS.get(row.status, "TENTATIVE"))
        event.add("created", row.created_at.astimezone(UTC))
        event.add("last-modified", row.updated_at.astimezone(UTC))
        yield event.to_ical()
        count += 1
        if progress is not None and count % 2000 == 0:
            progress(count)
    yield b"END:VCALENDAR\r\n"
    if progress is not None:
        progress(count)
