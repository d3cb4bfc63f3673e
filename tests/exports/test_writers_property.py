"""Any text a person can store exports in every format (hypothesis over arbitrary Unicode).

CSV gives the text back exactly; XLSX with each character an XML document cannot hold
(C0 controls but tab, LF and CR; U+FFFE, U+FFFF) as U+FFFD; iCalendar with CR and CRLF as
LF and the other controls but tab as U+FFFD: the changes each format forces.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from itertools import zip_longest

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from openpyxl import load_workbook

from bookdesk.exports.rows import ExportRow
from bookdesk.exports.writers import csv_chunks, ics_chunks, write_xlsx

pytestmark = pytest.mark.static

# What a person can store: any Unicode text but NUL (refused at the door, core/textinput.py)
# and lone surrogates (not text; refused the same way).
stored_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)
NOT_IN_XML = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NOT_IN_ICAL = re.compile("[\x01-\x08\x0b-\x1f\x7f]")
# Edge cases hypothesis might take a while to reach, always tried.
KNOWN = ["\x01", "a\x1fb", "=1+1", "\r", "\r\n", "\ufffe", "\ud7ff\ue000", "\U0001f600", "\x7f\x85"]

START = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


def row_with(text: str) -> ExportRow:
    return ExportRow(
        id=1,
        resource=text or "Room",
        location=text,
        requester="alice@example.com",
        title=text,
        purpose=text,
        attendees=1,
        status="approved",
        start=START,
        end=START + timedelta(hours=1),
        timezone="Europe/Berlin",
        created_at=START,
        updated_at=START,
        decided_by=None,
        decided_at=None,
        decision_reason=text,
    )


def csv_round_trip(text: str) -> list[str]:
    data = b"".join(csv_chunks([row_with(text)])).decode("utf-8")
    header, record = list(csv.reader(io.StringIO(data, newline="")))
    values = dict(zip(header, record, strict=True))
    return [values["title"], values["purpose"], values["location"], values["decision_reason"]]


def xlsx_round_trip(text: str) -> list:
    target = io.BytesIO()
    write_xlsx([row_with(text)], target)
    target.seek(0)
    sheet = load_workbook(target, read_only=True).active
    header, record = list(sheet.iter_rows(values_only=True))
    # A read-only sheet leaves out trailing empty cells.
    values = dict(zip_longest(header, record))
    return [values["title"], values["purpose"], values["location"], values["decision_reason"]]


def ics_round_trip(text: str) -> str:
    data = b"".join(ics_chunks([row_with(text)]))
    (event,) = Calendar.from_ical(data).walk("VEVENT")
    return str(event["summary"])


def check_all_formats(text: str) -> None:
    unformula = ("'" + text) if text.startswith(("=", "+", "-", "@", "\t", "\r", "\n")) else text
    assert csv_round_trip(text) == [unformula] * 4
    expected = NOT_IN_XML.sub("\ufffd", text) or None
    assert xlsx_round_trip(text) == [expected] * 4
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    assert ics_round_trip(text) == NOT_IN_ICAL.sub("\ufffd", lines)


@pytest.mark.parametrize("text", KNOWN, ids=repr)
def test_known_awkward_text_exports_in_every_format(text):
    check_all_formats(text)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(stored_text)
def test_any_text_exports_in_every_format(text):
    check_all_formats(text)
