"""Recurring bookings: local wall-clock times across DST, all-or-nothing or skip, cancel."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookdesk.bookings import recurrence, services
from bookdesk.bookings.errors import BookingConflict, BookingRuleViolation
from bookdesk.bookings.models import Booking, BookingStatus
from tests.bookings.apiclient import api_for
from tests.bookings.conftest import at

BERLIN = ZoneInfo("Europe/Berlin")


def test_weekly_expansion_keeps_local_time_across_the_autumn_change():
    # Europe/Berlin leaves summer time on 2030-10-27.
    start = datetime(2030, 10, 14, 9, 0, tzinfo=BERLIN)
    occurrences = recurrence.expand(
        start=start, end=start + timedelta(hours=1), zone=BERLIN, frequency="weekly", count=4
    )
    local = [(a.astimezone(BERLIN).time(), b.astimezone(BERLIN).time()) for a, b in occurrences]
    assert local == [(time(9), time(10))] * 4
    utc_hours = [a.astimezone(ZoneInfo("UTC")).hour for a, _ in occurrences]
    assert utc_hours == [7, 7, 8, 8]


def test_daily_until_a_date_includes_that_day():
    start = datetime(2030, 3, 29, 9, 0, tzinfo=BERLIN)
    occurrences = recurrence.expand(
        start=start,
        end=start + timedelta(hours=2),
        zone=BERLIN,
        frequency="daily",
        until=date(2030, 4, 1),
    )
    assert [a.astimezone(BERLIN).date().day for a, _ in occurrences] == [29, 30, 31, 1]
    assert {a.astimezone(BERLIN).hour for a, _ in occurrences} == {9}
    assert occurrences[0][0].utcoffset() == timedelta(0)


def test_a_series_needs_an_end():
    start = at(3, 9)
    with pytest.raises(BookingRuleViolation):
        recurrence.expand(
            start=start, end=start + timedelta(hours=1), zone=BERLIN, frequency="weekly"
        )


def series(resource, requester, start, hours=1, count=4, skip=False, frequency="weekly"):
    return services.booking_request_series(
        requester=requester,
        resource=resource,
        start=start,
        end=start + timedelta(hours=hours),
        title="Weekly sync",
        attendees=2,
        frequency=frequency,
        count=count,
        skip_conflicts=skip,
    )


def test_all_or_nothing_books_nothing_on_one_conflict(room, alice, dave):
    taken = services.booking_request(
        requester=dave, resource=room, start=at(16, 9), end=at(16, 10), title="Mine"
    )
    with pytest.raises(BookingConflict) as caught:
        series(room, alice, at(2, 9))
    assert [c["booking"] for c in caught.value.conflicts] == [taken.pk]
    assert Booking.objects.filter(requester=alice).count() == 0


def test_skip_conflicts_books_the_rest_and_lists_what_was_skipped(room, alice, dave):
    services.booking_request(
        requester=dave, resource=room, start=at(9, 9), end=at(9, 10), title="Mine"
    )
    result = series(room, alice, at(2, 9), skip=True)
    assert len(result.bookings) == 3
    assert [s["start"] for s in result.skipped] == [at(9, 9).isoformat()]
    assert result.skipped[0]["reason"] == "conflict"


def test_cancel_this_and_following(room, alice):
    result = series(room, alice, at(2, 9), count=5, frequency="daily")
    third = result.bookings[2]
    cancelled = services.booking_cancel(booking=third, actor=alice, scope="following")
    assert [b.pk for b in cancelled.cancelled] == [b.pk for b in result.bookings[2:]]
    statuses = list(
        Booking.objects.filter(series=result.series)
        .order_by("start")
        .values_list("status", flat=True)
    )
    assert statuses == ["approved", "approved", "cancelled", "cancelled", "cancelled"]
    services.booking_cancel(booking=result.bookings[0], actor=alice, scope="one")
    assert Booking.objects.get(pk=result.bookings[1].pk).status == BookingStatus.APPROVED


def test_series_through_the_api_across_dst(client, alice, db):
    from bookdesk.resources.models import Resource

    studio = Resource.objects.create(
        name="Studio", capacity=5, timezone="America/New_York", max_advance=timedelta(days=2000)
    )
    zone = ZoneInfo("America/New_York")
    # The first Monday in March of next year; New York changes on the second Sunday.
    year = timezone.now().year + 1
    first = date(year, 3, 1)
    first += timedelta(days=(7 - first.weekday()) % 7)
    start = datetime.combine(first, time(9), tzinfo=zone)
    response = api_for(client, alice).post(
        "/bookings",
        {
            "resource": studio.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "title": "Standup",
            "recurrence": {"frequency": "weekly", "count": 3},
        },
    )
    assert response.status_code == 201, response.content
    payload = response.json()
    assert payload["skipped"] == []
    local_starts = [b["start_local"] for b in payload["bookings"]]
    assert all("T09:00:00" in s for s in local_starts)
    assert local_starts[0].endswith("-05:00")
    assert local_starts[-1].endswith("-04:00")


def test_series_conflict_through_the_api_is_409_listing_occurrences(client, room, alice, dave):
    services.booking_request(
        requester=dave, resource=room, start=at(3, 9), end=at(3, 10), title="Mine"
    )
    services.booking_request(
        requester=dave, resource=room, start=at(4, 9), end=at(4, 10), title="Mine"
    )
    response = api_for(client, alice).post(
        "/bookings",
        {
            "resource": room.pk,
            "start": at(2, 9).isoformat(),
            "end": at(2, 10).isoformat(),
            "title": "Daily",
            "recurrence": {"frequency": "daily", "count": 4},
        },
    )
    assert response.status_code == 409
    assert [c["start"] for c in response.json()["detail"]["conflicts"]] == [
        at(3, 9).isoformat(),
        at(4, 9).isoformat(),
    ]


def test_a_series_whose_every_occurrence_breaks_a_rule_is_a_422(room, alice):
    room.max_advance = timedelta(days=3)
    room.save()
    with pytest.raises(BookingRuleViolation) as caught:
        series(room, alice, at(7, 9), skip=True)
    assert caught.value.rule == "recurrence"
    with pytest.raises(BookingRuleViolation) as caught:
        series(room, alice, at(2, 9), skip=False)
    assert caught.value.rule == "max_advance"
    assert "occurrence on" in caught.value.message
    assert not Booking.objects.exists()
