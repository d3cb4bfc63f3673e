"""Free/busy of resources, read from the bookings that hold slots."""

from __future__ import annotations

from datetime import time, timedelta

from bookdesk.bookings import services
from bookdesk.bookings.availability import availability
from bookdesk.resources.models import Blackout, OpeningHours
from tests.bookings.conftest import at


def test_free_time_respects_opening_hours_blackouts_and_holding_bookings(hall, alice, room):
    day = at(7, 0, zone=hall.zone)
    OpeningHours.objects.create(
        resource=hall, weekday=day.weekday(), opens=time(9), closes=time(17)
    )
    hall.requires_approval = False
    hall.save()
    services.booking_request(
        requester=alice,
        resource=hall,
        start=day + timedelta(hours=10),
        end=day + timedelta(hours=11),
        title="x",
    )
    Blackout.objects.create(
        resource=None,
        start=day + timedelta(hours=15),
        end=day + timedelta(hours=16),
        reason="Drill",
    )
    (item,) = availability(start=day, end=day + timedelta(days=1), resource_ids=[hall.pk])
    free = [(a.astimezone(hall.zone).hour, b.astimezone(hall.zone).hour) for a, b in item.free]
    assert free == [(9, 10), (11, 15), (16, 17)]
    assert [b.kind for b in item.busy] == ["booking", "blackout"]
    assert not item.is_free
    (open_all_day,) = availability(
        start=day + timedelta(hours=12), end=day + timedelta(hours=13), resource_ids=[room.pk]
    )
    assert open_all_day.is_free


def test_pending_requests_that_do_not_hold_leave_the_slot_free(hall, alice):
    services.booking_request(
        requester=alice, resource=hall, start=at(3, 10), end=at(3, 11), title="x"
    )
    (item,) = availability(start=at(3, 9), end=at(3, 12), resource_ids=[hall.pk])
    assert item.is_free
