"""The availability search: free resources for a local time window and head count."""

from __future__ import annotations

from datetime import time

import pytest

from bookdesk.bookings import services
from bookdesk.resources.models import Blackout, OpeningHours, Resource
from tests.accounts.helpers import signed_in_client
from tests.bookings.conftest import at


@pytest.fixture
def rooms(db):
    small = Resource.objects.create(name="Small room", capacity=6, timezone="UTC")
    big = Resource.objects.create(name="Big room", capacity=40, timezone="UTC")
    berlin = Resource.objects.create(name="Berlin hall", capacity=80, timezone="Europe/Berlin")
    van = Resource.objects.create(name="Van", kind="vehicle", capacity=40, timezone="UTC")
    return {"small": small, "big": big, "berlin": berlin, "van": van}


def search(client, day, start="14:00", end="16:00", **extra):
    return client.get(
        "/availability/", {"date": day.isoformat(), "time_from": start, "time_to": end, **extra}
    )


def names(response) -> list[str]:
    return [item["resource"].name for item in response.context["results"]]


def test_it_lists_free_resources_big_enough(client, alice, rooms):
    signed_in_client(client, alice)
    response = search(client, at(2, 0).date(), capacity=30)
    assert response.status_code == 200
    assert names(response) == ["Big room", "Van", "Berlin hall"]


def test_it_filters_by_kind(client, alice, rooms):
    signed_in_client(client, alice)
    assert names(search(client, at(2, 0).date(), capacity=30, kind="vehicle")) == ["Van"]


def test_a_booked_or_blacked_out_or_closed_resource_is_not_free(client, alice, rooms):
    day = at(2, 0).date()
    services.booking_request(
        requester=alice, resource=rooms["big"], start=at(2, 15), end=at(2, 17), title="Taken"
    )
    Blackout.objects.create(resource=rooms["van"], start=at(2, 0), end=at(3, 0), reason="Service")
    OpeningHours.objects.create(
        resource=rooms["berlin"], weekday=day.weekday(), opens=time(8), closes=time(15)
    )
    signed_in_client(client, alice)
    assert names(search(client, day, capacity=30)) == []
    assert names(search(client, day, capacity=1)) == ["Small room"]


def test_times_are_read_in_each_resource_zone(client, alice, rooms):
    # Berlin's hall is busy 14:00-16:00 Berlin time; the UTC rooms are not affected.
    services.booking_request(
        requester=alice,
        resource=rooms["berlin"],
        start=at(2, 14, zone=rooms["berlin"].zone),
        end=at(2, 16, zone=rooms["berlin"].zone),
        title="Berlin meeting",
    )
    signed_in_client(client, alice)
    response = search(client, at(2, 0).date(), capacity=30)
    assert names(response) == ["Big room", "Van"]
    html = response.content.decode()
    assert "14:00\u201316:00 (UTC)" in html


def test_each_result_links_to_a_prefilled_booking_form(client, alice, rooms):
    day = at(2, 0).date()
    signed_in_client(client, alice)
    html = search(client, day, capacity=30, kind="vehicle").content.decode()
    expected = (
        f"/book/?resource={rooms['van'].pk}&amp;start={day.isoformat()}T14:00"
        f"&amp;end={day.isoformat()}T16:00&amp;attendees=30"
    )
    assert expected in html


def test_an_inverted_window_is_a_422(client, alice, rooms):
    signed_in_client(client, alice)
    response = search(client, at(2, 0).date(), start="16:00", end="14:00")
    assert response.status_code == 422
    assert response.context["results"] is None


def test_the_empty_form_shows_no_results_yet(client, alice, rooms):
    signed_in_client(client, alice)
    response = client.get("/availability/")
    assert response.status_code == 200
    assert response.context["results"] is None
    assert "date" in response.context["form"].fields
