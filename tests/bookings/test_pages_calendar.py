"""The calendar page and its JSON feed: who sees what, in the resource's own zone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookdesk.bookings import services
from tests.accounts.helpers import signed_in_client
from tests.bookings.conftest import at


@pytest.fixture
def alice_booking(alice, hall):
    # 14:00-16:00 in Berlin, two days ahead; pending, since the hall needs approval.
    return services.booking_request(
        requester=alice,
        resource=hall,
        start=at(2, 14, zone=hall.zone),
        end=at(2, 16, zone=hall.zone),
        title="Choir rehearsal",
        attendees=40,
    )


def feed(client, start, end, **params):
    return client.get(
        "/calendar/events", {"start": f"{start}T00:00:00Z", "end": f"{end}T00:00:00Z", **params}
    )


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/calendar/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_refuses_a_session_without_the_second_factor(client, alice):
    client.force_login(alice)
    assert client.get("/calendar/events").status_code == 302


def test_week_page_lists_the_booking_at_its_local_time_with_the_zone(client, alice, alice_booking):
    day = alice_booking.start.astimezone(alice_booking.resource.zone).date()
    signed_in_client(client, alice)
    response = client.get("/calendar/", {"view": "week", "date": day.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choir rehearsal" in html
    assert "14:00\u201316:00 (Europe/Berlin)" in html
    assert 'id="calendar-options"' in html
    assert "vendor/fullcalendar/index.global.min.js" in html


def test_feed_gives_wall_clock_times_of_the_resource_zone(client, alice, alice_booking):
    day = alice_booking.start.astimezone(alice_booking.resource.zone).date()
    signed_in_client(client, alice)
    response = feed(client, day, day + timedelta(days=1))
    assert response.status_code == 200
    [event] = response.json()
    assert event["start"] == f"{day.isoformat()}T14:00:00"
    assert event["end"] == f"{day.isoformat()}T16:00:00"
    assert event["extendedProps"]["zone"] == "Europe/Berlin"
    assert event["url"] == f"/bookings/{alice_booking.pk}/"
    assert "Choir rehearsal" in event["title"]


def test_feed_leaves_out_bookings_outside_the_window(client, alice, alice_booking):
    day = alice_booking.start.astimezone(alice_booking.resource.zone).date()
    signed_in_client(client, alice)
    assert feed(client, day + timedelta(days=1), day + timedelta(days=3)).json() == []


def test_others_see_a_slot_holding_booking_only_as_busy(client, alice, dave, room):
    booking = services.booking_request(
        requester=alice, resource=room, start=at(1, 9), end=at(1, 10), title="Secret plan"
    )
    assert booking.holds_slot
    day = booking.start.date()
    signed_in_client(client, dave)
    [event] = feed(client, day, day + timedelta(days=1)).json()
    assert event["title"] == "Busy \u00b7 Room 1"
    assert "url" not in event
    page = client.get("/calendar/", {"view": "day", "date": day.isoformat()}).content.decode()
    assert "Secret plan" not in page
    assert "Busy" in page


def test_others_do_not_see_a_pending_request_that_holds_nothing(client, dave, alice_booking):
    assert not alice_booking.holds_slot
    day = alice_booking.start.astimezone(alice_booking.resource.zone).date()
    signed_in_client(client, dave)
    assert feed(client, day, day + timedelta(days=1)).json() == []


def test_feed_filters_by_resource(client, alice, alice_booking, room):
    day = alice_booking.start.astimezone(alice_booking.resource.zone).date()
    signed_in_client(client, alice)
    assert feed(client, day, day + timedelta(days=1), resource=room.pk).json() == []
    found = feed(client, day, day + timedelta(days=1), resource=alice_booking.resource_id)
    assert len(found.json()) == 1


@pytest.mark.parametrize(
    "params",
    [{}, {"start": "yesterday", "end": "tomorrow"}, {"start": "2026-01-01", "end": "2026-06-01"}],
)
def test_feed_rejects_a_missing_or_too_wide_window(client, alice, params):
    signed_in_client(client, alice)
    response = client.get("/calendar/events", params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_each_view_renders_with_period_links(client, alice, view):
    signed_in_client(client, alice)
    response = client.get("/calendar/", {"view": view, "date": "2026-03-31"})
    assert response.status_code == 200
    html = response.content.decode()
    expected_prev = {"day": "2026-03-30", "week": "2026-03-24", "month": "2026-02-01"}[view]
    assert f"date={expected_prev}" in html


@pytest.mark.static
def test_the_calendar_component_is_served_as_the_npm_build_with_its_licence():
    from django.contrib.staticfiles import finders

    from tests.conftest import PROJECT_DIR

    found = finders.find("vendor/fullcalendar/index.global.min.js")
    assert found, "the committed calendar bundle is missing"
    with open(found, "rb") as bundle:
        served = bundle.read()
    assert b"FullCalendar Standard Bundle" in served[:300]
    assert finders.find("vendor/fullcalendar/LICENSE.md")
    assert finders.find("js/calendar.js")
    # The copy is the file npm installed for the version in package.json (make vendor-js).
    installed = PROJECT_DIR / "node_modules" / "fullcalendar" / "index.global.min.js"
    assert installed.read_bytes() == served


def test_a_crowded_period_is_cut_short_with_a_notice(client, alice, room, monkeypatch):
    from bookdesk.bookings import calendar_views

    for hour in (8, 10, 12):
        services.booking_request(
            requester=alice, resource=room, start=at(1, hour), end=at(1, hour + 1), title="M"
        )
    monkeypatch.setattr(calendar_views, "MAX_ENTRIES", 2)
    day = at(1, 0).date()
    signed_in_client(client, alice)
    response = client.get("/calendar/", {"view": "day", "date": day.isoformat()})
    assert [e.start.hour for e in response.context["entries"]] == [8, 10]
    assert "Only the first 2 bookings are shown." in response.content.decode()
    assert len(feed(client, day, day + timedelta(days=1)).json()) == 2


def test_the_feed_needs_the_same_queries_for_one_or_many_resources(client, alice, room):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bookdesk.resources.models import Resource

    day = at(1, 0).date()
    signed_in_client(client, alice)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert feed(client, day, day + timedelta(days=1)).status_code == 200
        return len(ctx.captured_queries)

    services.booking_request(
        requester=alice, resource=room, start=at(1, 9), end=at(1, 10), title="One"
    )
    few = count_queries()
    for n in range(6):
        other = Resource.objects.create(name=f"Room {n + 2}", timezone="Asia/Tokyo")
        services.booking_request(
            requester=alice, resource=other, start=at(1, 9), end=at(1, 10), title="More"
        )
    assert len(feed(client, day - timedelta(days=1), day + timedelta(days=2)).json()) == 7
    assert count_queries() == few
