"""Booking exports through the API: who gets what, filters, and the three formats."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from bookdesk.audit.models import AuditEvent
from tests.exports.conftest import make_booking


def csv_rows(response) -> list[dict]:
    assert response.streaming  # never built in memory
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def titles(rows) -> list[str]:
    return [r["title"] for r in rows]


def test_an_admin_exports_everything(as_user, carol, bookings):
    response = as_user(carol).get("/api/v1/exports/bookings.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="bookings-')
    assert titles(csv_rows(response)) == [
        "Team sync",
        "Dave in room",
        "Alice in hall",
        "Dave in hall",
    ]


def test_an_approver_exports_their_resources(as_user, bob, bookings):
    rows = csv_rows(as_user(bob).get("/api/v1/exports/bookings.csv"))
    assert titles(rows) == ["Team sync", "Dave in room"]


def test_an_approver_also_gets_their_own_bookings(as_user, bob, hall, bookings):
    make_booking(hall, bob, datetime.fromisoformat("2026-12-05T10:00:00+00:00"), title="Bob's")
    rows = csv_rows(as_user(bob).get("/api/v1/exports/bookings.csv"))
    assert titles(rows) == ["Team sync", "Dave in room", "Bob's"]


def test_a_requester_exports_only_their_own(as_user, dave, bookings):
    rows = csv_rows(as_user(dave).get("/api/v1/exports/bookings.csv"))
    assert titles(rows) == ["Dave in room", "Dave in hall"]


def test_without_sign_in_it_is_401(client, bookings):
    assert client.get("/api/v1/exports/bookings.csv").status_code == 401


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2026-12-02&to=2026-12-03", ["Dave in room", "Alice in hall"]),
        ("to=2026-12-01", ["Team sync"]),
        ("status=pending&status=cancelled", ["Dave in room", "Dave in hall"]),
        ("status=approved,pending", ["Team sync", "Dave in room", "Alice in hall"]),
        ("requester=alice@example.com", ["Team sync", "Alice in hall"]),
        ("requester=ALICE@example.com&from=2026-12-02", ["Alice in hall"]),
    ],
)
def test_filters_narrow_the_export(as_user, carol, bookings, query, expected):
    rows = csv_rows(as_user(carol).get(f"/api/v1/exports/bookings.csv?{query}"))
    assert titles(rows) == expected


def test_resource_filter_takes_several(as_user, carol, room, hall, bookings):
    client = as_user(carol)
    only_hall = csv_rows(client.get(f"/api/v1/exports/bookings.csv?resource={hall.pk}"))
    assert titles(only_hall) == ["Alice in hall", "Dave in hall"]
    both = csv_rows(client.get(f"/api/v1/exports/bookings.csv?resource={room.pk},{hall.pk}"))
    assert len(both) == 4


def test_filters_cannot_widen_the_scope(as_user, dave, bookings):
    rows = csv_rows(as_user(dave).get("/api/v1/exports/bookings.csv?requester=alice@example.com"))
    assert rows == []


@pytest.mark.parametrize(
    ("query", "loc", "msg"),
    [
        ("from=2026-13-45", "from", "'2026-13-45' is not a date; use YYYY-MM-DD."),
        ("to=yesterday", "to", "'yesterday' is not a date; use YYYY-MM-DD."),
        ("from=2026-12-05&to=2026-12-01", "to", "'to' is before 'from'."),
        ("resource=room", "resource", "'room' is not a resource id."),
        ("status=maybe", "status", "'maybe' is not a status"),
    ],
)
def test_malformed_filters_are_422_json(as_user, carol, bookings, query, loc, msg):
    response = as_user(carol).get(f"/api/v1/exports/bookings.xlsx?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert body["detail"][0]["loc"] == ["query", loc]
    assert body["detail"][0]["msg"].startswith(msg)
    assert not AuditEvent.objects.filter(action="export.created").exists()


def test_every_export_is_audited_with_filters_and_rows(as_user, bob, room, bookings):
    as_user(bob).get(f"/api/v1/exports/bookings.ics?from=2026-12-01&resource={room.pk}")
    event = AuditEvent.objects.get(action="export.created")
    assert event.actor == bob
    assert event.data == {
        "format": "ics",
        "rows": 2,
        "filters": {
            "date_from": "2026-12-01",
            "date_to": None,
            "resources": [room.pk],
            "statuses": [],
            "requester": None,
        },
    }


# --- formats --------------------------------------------------------------------------------


@pytest.fixture
def tricky(room, alice):
    return make_booking(
        room,
        alice,
        datetime.fromisoformat("2026-12-10T08:30:00+00:00"),
        title='=HYPERLINK("http://evil.example","click")',
        purpose="+1 for the plan\nline two",
        decision_reason="@SUM(A1)",
    )


def test_csv_neutralises_formulas_and_round_trips_times(as_user, alice, tricky):
    (row,) = csv_rows(as_user(alice).get("/api/v1/exports/bookings.csv"))
    assert row["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["purpose"] == "'+1 for the plan\nline two"
    assert row["decision_reason"] == "'@SUM(A1)"
    # ISO 8601 with the resource's offset: Berlin is UTC+1 in December.
    assert row["start"] == "2026-12-10T09:30:00+01:00"
    assert row["timezone"] == "Europe/Berlin"
    assert datetime.fromisoformat(row["start"]) == tricky.start
    assert datetime.fromisoformat(row["end"]) == tricky.end


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_csv_neutralises_every_dangerous_prefix(as_user, alice, room, prefix):
    make_booking(
        room, alice, datetime.fromisoformat("2026-12-10T08:30:00+00:00"), title=prefix + "x"
    )
    (row,) = csv_rows(as_user(alice).get("/api/v1/exports/bookings.csv"))
    assert row["title"] == "'" + prefix + "x"


def test_xlsx_has_real_datetimes_and_no_formulas(as_user, alice, tricky):
    response = as_user(alice).get("/api/v1/exports/bookings.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(data))["Bookings"]
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, list(sheet[2]), strict=True))
    assert values["title"].value == '=HYPERLINK("http://evil.example","click")'
    assert values["title"].data_type == "s"
    assert values["title"].quotePrefix
    assert values["start (local)"].value == datetime(2026, 12, 10, 9, 30)
    assert values["end (local)"].value == datetime(2026, 12, 10, 10, 30)
    assert values["timezone"].value == "Europe/Berlin"
    assert values["attendees"].value == 1


def test_ics_has_one_event_per_booking_with_stable_uids(as_user, carol, bookings):
    client = as_user(carol)
    response = client.get("/api/v1/exports/bookings.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = b"".join(response.streaming_content)
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    by_uid = {str(e["uid"]): e for e in events}
    sync = by_uid[f"booking-{bookings['alice_room'].pk}@127.0.0.1"]
    assert str(sync["summary"]) == "Team sync"
    assert sync.decoded("dtstart") == bookings["alice_room"].start
    assert str(sync["status"]) == "CONFIRMED"
    assert str(by_uid[f"booking-{bookings['dave_room'].pk}@127.0.0.1"]["status"]) == "TENTATIVE"
    assert str(by_uid[f"booking-{bookings['dave_hall'].pk}@127.0.0.1"]["status"]) == "CANCELLED"
    again = Calendar.from_ical(
        b"".join(client.get("/api/v1/exports/bookings.ics").streaming_content)
    )
    assert sorted(str(e["uid"]) for e in again.walk("VEVENT")) == sorted(by_uid)
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")


CONTROL_TITLES = ["Sync\x01", "\x1b[31mred", "a\x0bb\x0cc", "tab\there", "\x7fdel", "end\ufffe"]


@pytest.mark.parametrize("title", CONTROL_TITLES, ids=repr)
def test_a_title_with_control_characters_exports_in_every_format(as_user, bob, room, alice, title):
    """Regression: one booking titled "Sync\\x01" made every XLSX export holding it a 500."""
    make_booking(room, alice, datetime(2026, 12, 1, 9, tzinfo=UTC), title=title)
    client = as_user(bob)
    rows = csv_rows(client.get("/api/v1/exports/bookings.csv"))
    assert titles(rows) == [title]

    response = client.get("/api/v1/exports/bookings.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["Bookings"]
    (exported,) = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert exported.replace("\ufffd", "") == "".join(
        c for c in title if c in "\t" or not (c < " " or c in "\ufffe")
    )

    response = client.get("/api/v1/exports/bookings.ics")
    assert response.status_code == 200
    (event,) = Calendar.from_ical(b"".join(response.streaming_content)).walk("VEVENT")
    assert str(event["summary"]).replace("\ufffd", "") == "".join(
        c for c in title if c == "\t" or not (c < " " or c == "\x7f")
    )
