"""Home, the booking form, my bookings, booking detail and cancel, as pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookdesk.bookings import services
from bookdesk.bookings.models import Booking, BookingStatus
from tests.accounts.helpers import signed_in_client
from tests.bookings.conftest import at


def local(value) -> str:
    return f"{value:%Y-%m-%dT%H:%M}"


def book(client, resource, start, end, **extra):
    data = {
        "resource": resource.pk,
        "start": local(start),
        "end": local(end),
        "title": "Team meeting",
        "purpose": "",
        "attendees": 4,
        "on_conflict": "all",
        **extra,
    }
    return client.post("/book/", data)


def test_home_lists_my_upcoming_bookings_and_links(client, alice, room):
    services.booking_request(
        requester=alice, resource=room, start=at(1, 9), end=at(1, 10), title="Standup"
    )
    signed_in_client(client, alice)
    html = client.get("/").content.decode()
    assert "Standup" in html
    assert 'href="/book/"' in html
    assert 'href="/approvals/"' not in html  # requesters have no inbox


def test_navigation_shows_role_pages_only_to_those_roles(client, alice, bob, carol):
    signed_in_client(client, alice)
    nav = client.get("/").content.decode()
    assert ">Calendar<" in nav and ">Approvals<" not in nav and ">Audit log<" not in nav
    signed_in_client(client, bob)
    nav = client.get("/").content.decode()
    assert ">Approvals<" in nav and ">Resources<" not in nav
    signed_in_client(client, carol)
    nav = client.get("/").content.decode()
    assert ">Resources<" in nav and ">Audit log<" in nav


def test_the_form_books_a_free_room_at_once(client, alice, room):
    signed_in_client(client, alice)
    response = book(client, room, at(1, 9), at(1, 10))
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.pk}/"
    assert booking.status == BookingStatus.APPROVED
    assert booking.start == at(1, 9)


def test_times_typed_in_the_form_are_read_in_the_resource_zone(client, alice, hall):
    signed_in_client(client, alice)
    start = at(3, 14, zone=hall.zone)
    response = book(client, hall, start, start + timedelta(hours=2), attendees=50)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.PENDING
    assert booking.start == start  # 14:00 Berlin, whatever that is in UTC
    follow = client.get(response["Location"]).content.decode()
    assert "Your request is waiting for approval." in follow
    assert "14:00\u201316:00 (Europe/Berlin)" in follow


def test_a_taken_slot_is_a_409_that_names_the_slot(client, alice, dave, room):
    services.booking_request(
        requester=dave, resource=room, start=at(1, 9), end=at(1, 11), title="Taken"
    )
    signed_in_client(client, alice)
    response = book(client, room, at(1, 10), at(1, 12))
    assert response.status_code == 409
    html = response.content.decode()
    assert "already taken" in html
    assert f"{at(1, 9):%a %d %b %Y} 09:00" in html
    assert Booking.objects.count() == 1


def test_a_broken_rule_is_a_422_with_its_message(client, alice, room):
    signed_in_client(client, alice)
    response = book(client, room, at(1, 9), at(1, 10), attendees=50)
    assert response.status_code == 422
    assert "holds at most 8 people" in response.content.decode()
    assert not Booking.objects.exists()


def test_an_invalid_form_is_a_422_and_keeps_what_was_typed(client, alice, room):
    signed_in_client(client, alice)
    response = book(client, room, at(1, 10), at(1, 9), title="Backwards")
    assert response.status_code == 422
    html = response.content.decode()
    assert "The end must be after the start." in html
    assert 'value="Backwards"' in html


def test_a_wall_time_skipped_by_the_clock_change_is_refused(client, alice, hall):
    signed_in_client(client, alice)
    data = {
        "resource": hall.pk,
        "start": "2027-03-28T02:30",  # Berlin jumps from 02:00 to 03:00 that night
        "end": "2027-03-28T04:00",
        "title": "Night shift",
        "attendees": 1,
    }
    response = client.post("/book/", data)
    assert response.status_code == 422
    assert "does not exist in Europe/Berlin" in response.content.decode()


def test_a_weekly_series_skips_clashing_occurrences_when_asked(client, alice, dave, room):
    services.booking_request(
        requester=dave, resource=room, start=at(8, 9), end=at(8, 10), title="In the way"
    )
    signed_in_client(client, alice)
    response = book(client, room, at(1, 9), at(1, 10), repeat="weekly", count=3, on_conflict="skip")
    assert response.status_code == 302
    mine = Booking.objects.filter(requester=alice).order_by("start")
    assert [b.start for b in mine] == [at(1, 9), at(15, 9)]
    page = client.get(response["Location"]).content.decode()
    assert "2 occurrences booked. 1 skipped" in page


def test_an_all_or_nothing_series_books_nothing_on_a_clash(client, alice, dave, room):
    services.booking_request(
        requester=dave, resource=room, start=at(8, 9), end=at(8, 10), title="In the way"
    )
    signed_in_client(client, alice)
    response = book(client, room, at(1, 9), at(1, 10), repeat="weekly", count=3)
    assert response.status_code == 409
    assert not Booking.objects.filter(requester=alice).exists()


def test_a_series_needs_a_count_or_an_end_date(client, alice, room):
    signed_in_client(client, alice)
    response = book(client, room, at(1, 9), at(1, 10), repeat="daily")
    assert response.status_code == 422
    assert "how many times" in response.content.decode()


def test_the_form_is_prefilled_from_a_link(client, alice, room):
    signed_in_client(client, alice)
    response = client.get(
        "/book/", {"resource": room.pk, "start": "2027-01-05T14:00", "end": "2027-01-05T16:00"}
    )
    html = response.content.decode()
    assert 'value="2027-01-05T14:00"' in html
    assert f'<option value="{room.pk}" selected>' in html


@pytest.fixture
def three_bookings(alice, room):
    past = Booking.objects.create(
        resource=room,
        requester=alice,
        start=at(-3, 9),
        end=at(-3, 10),
        title="Old meeting",
        status=BookingStatus.APPROVED,
    )
    cancelled = services.booking_request(
        requester=alice, resource=room, start=at(2, 9), end=at(2, 10), title="Dropped"
    )
    services.booking_cancel(booking=cancelled, actor=alice)
    upcoming = services.booking_request(
        requester=alice, resource=room, start=at(3, 9), end=at(3, 10), title="Planning"
    )
    return past, cancelled, upcoming


def titles(response) -> list[str]:
    return [b.title for b in response.context["page"].object_list]


def test_my_bookings_shows_upcoming_by_default(client, alice, three_bookings):
    signed_in_client(client, alice)
    assert titles(client.get("/bookings/")) == ["Dropped", "Planning"]


def test_my_bookings_filters_by_status_and_time(client, alice, three_bookings):
    signed_in_client(client, alice)
    assert titles(client.get("/bookings/", {"status": "cancelled"})) == ["Dropped"]
    assert titles(client.get("/bookings/", {"when": "past"})) == ["Old meeting"]
    assert titles(client.get("/bookings/", {"when": "all", "status": "approved"})) == [
        "Planning",
        "Old meeting",
    ]


def test_my_bookings_shows_nobody_elses(client, dave, three_bookings):
    signed_in_client(client, dave)
    assert titles(client.get("/bookings/", {"when": "all"})) == []


def test_detail_shows_the_history_of_the_booking(client, alice, three_bookings):
    _past, cancelled, _upcoming = three_bookings
    signed_in_client(client, alice)
    response = client.get(f"/bookings/{cancelled.pk}/")
    assert response.status_code == 200
    actions = [e.action for e in response.context["history"]]
    assert actions == ["booking.requested", "booking.approved", "booking.cancelled"]
    assert "(UTC)" in response.content.decode()


def test_another_requesters_booking_is_not_found(client, dave, three_bookings):
    signed_in_client(client, dave)
    assert client.get(f"/bookings/{three_bookings[2].pk}/").status_code == 404
    assert client.post(f"/bookings/{three_bookings[2].pk}/cancel").status_code == 404


def test_the_requester_cancels_from_the_detail_page(client, alice, three_bookings):
    upcoming = three_bookings[2]
    signed_in_client(client, alice)
    response = client.post(f"/bookings/{upcoming.pk}/cancel", {"scope": "one"})
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert upcoming.status == BookingStatus.CANCELLED


def test_cancelling_a_cancelled_booking_is_refused(client, alice, three_bookings):
    cancelled = three_bookings[1]
    signed_in_client(client, alice)
    # The page offers no cancel button now; a stale form posted anyway gets a clear answer,
    # the same as the API's: the booking's state no longer allows it.
    response = client.post(f"/bookings/{cancelled.pk}/cancel", {"scope": "one"})
    assert response.status_code == 409
    assert "Only pending or approved bookings can be cancelled" in response.content.decode()


def test_cancel_this_and_following_of_a_series(client, alice, room):
    signed_in_client(client, alice)
    book(client, room, at(1, 9), at(1, 10), repeat="daily", count=4)
    series = list(Booking.objects.order_by("start"))
    response = client.post(f"/bookings/{series[1].pk}/cancel", {"scope": "following"})
    assert response.status_code == 302
    statuses = [b.status for b in Booking.objects.order_by("start")]
    assert statuses == ["approved", "cancelled", "cancelled", "cancelled"]


def test_cancel_needs_a_post(client, alice, three_bookings):
    signed_in_client(client, alice)
    assert client.get(f"/bookings/{three_bookings[2].pk}/cancel").status_code == 405


def test_the_navigation_marks_the_current_page(client, alice):
    signed_in_client(client, alice)
    html = client.get("/bookings/").content.decode()
    assert '<a href="/bookings/" aria-current="page">My bookings</a>' in html
    assert html.count('aria-current="page"') == 1
