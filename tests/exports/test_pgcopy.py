"""On PostgreSQL, CSV comes from COPY; it must be exactly what the Python writer makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookdesk.bookings.models import Booking
from bookdesk.exports import writers
from bookdesk.exports.pgcopy import copy_csv_chunks
from bookdesk.exports.selectors import export_rows
from tests.exports.conftest import make_booking

# COPY is PostgreSQL's: the SQLite pass of `make test` deselects these (marker "postgres").
pytestmark = pytest.mark.postgres


@pytest.fixture
def awkward(room, hall, alice, bob, bookings):
    """Values that stress quoting, neutralising, empty strings and time zones."""
    make_booking(
        room,
        alice,
        datetime(2026, 3, 29, 0, 30, 15, tzinfo=UTC),  # the night Berlin's clocks go forward
        title='=cmd|" /C calc"!A0',
        purpose='line one\nline two, with comma\r\nand "quotes"',
        decision_reason="-1",
        decided_by=bob,
        decided_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )
    make_booking(hall, alice, datetime(2026, 7, 1, 23, 0, tzinfo=UTC), title="\tTabbed", purpose="")
    make_booking(hall, alice, datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC), title="'quoted' title")
    make_booking(room, alice, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), title="Grüße 東京 ✓")


def test_copy_output_is_the_python_writers_output(awkward):
    qs = Booking.objects.order_by("start", "id")
    python_csv = b"".join(writers.csv_chunks(export_rows(qs)))
    copy_csv = b"".join(copy_csv_chunks(qs))
    assert copy_csv.decode() == python_csv.decode()
    assert python_csv.count(b"\n") > 8  # header + 8 rows, some with line breaks inside


def test_copy_reports_progress(awkward):
    seen = []
    list(copy_csv_chunks(Booking.objects.order_by("start", "id"), progress=seen.append))
    assert seen[-1] == 8


@pytest.mark.parametrize("value", ["\rx", "a\rb", "a\nb", 'say "hi"', "a,b", " padded "])
def test_copy_quotes_like_the_python_writer(room, alice, value):
    make_booking(room, alice, datetime(2026, 12, 1, 9, tzinfo=UTC), title=value, purpose=value)
    qs = Booking.objects.order_by("start", "id")
    assert b"".join(copy_csv_chunks(qs)) == b"".join(writers.csv_chunks(export_rows(qs)))
