"""Calendar feeds: secret addresses, no session, cheap conditional polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from bookdesk.audit.models import AuditEvent
from bookdesk.bookings.models import Booking
from tests.exports.conftest import make_booking


def soon(days: int) -> datetime:
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0)


def new_feed(client, **payload) -> str:
    response = client.post("/api/v1/feeds", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def fetch(url: str, **headers):
    return Client().get(path_of(url), headers=headers)


def events(response) -> list:
    return Calendar.from_ical(b"".join(response.streaming_content)).walk("VEVENT")


def test_a_personal_feed_shows_my_bookings_without_a_session(as_user, alice, dave, room):
    make_booking(room, alice, soon(2), title="Mine")
    make_booking(room, dave, soon(3), title="Dave's")
    make_booking(room, alice, timezone.now() - timedelta(days=200), title="Long ago")
    url = new_feed(as_user(alice))
    assert "/exports/feeds/bdf_" in url and url.endswith(".ics")
    response = fetch(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert [str(e["summary"]) for e in events(response)] == ["Mine"]
    assert AuditEvent.objects.filter(action="feed.created", actor=alice).count() == 1


def test_a_resource_feed_shows_what_its_owner_may_see(as_user, bob, alice, dave, room, hall):
    make_booking(room, alice, soon(2), title="Alice in room")
    make_booking(room, dave, soon(3), title="Dave in room")
    make_booking(hall, alice, soon(4), title="Alice in hall")
    url = new_feed(as_user(bob), resource_id=room.pk)
    assert sorted(str(e["summary"]) for e in events(fetch(url))) == [
        "Alice in room",
        "Dave in room",
    ]
    # Dave may only see his own bookings, also in a resource's feed.
    dave_url = new_feed(as_user(dave), resource_id=room.pk)
    assert [str(e["summary"]) for e in events(fetch(dave_url))] == ["Dave in room"]


def test_polls_get_304_until_something_changes(as_user, alice, room):
    booking = make_booking(room, alice, soon(2), title="Mine")
    url = new_feed(as_user(alice))
    first = fetch(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")

    assert fetch(url, if_none_match=etag).status_code == 304
    assert fetch(url, if_modified_since=last_modified).status_code == 304

    Booking.objects.filter(pk=booking.pk).update(
        title="Renamed", updated_at=timezone.now() + timedelta(seconds=5)
    )
    changed = fetch(url, if_none_match=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert [str(e["summary"]) for e in events(changed)] == ["Renamed"]


def test_a_new_booking_changes_the_etag(as_user, alice, room):
    make_booking(room, alice, soon(2))
    url = new_feed(as_user(alice))
    etag = fetch(url)["ETag"]
    make_booking(room, alice, soon(5))
    assert fetch(url, if_none_match=etag).status_code == 200


def test_regenerating_revokes_the_old_address(as_user, alice, room):
    client = as_user(alice)
    old = new_feed(client)
    new = new_feed(client)
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    assert len(client.get("/api/v1/feeds").json()) == 1


def test_a_revoked_or_unknown_feed_is_404(as_user, alice):
    client = as_user(alice)
    url = new_feed(client)
    (feed,) = client.get("/api/v1/feeds").json()
    assert client.delete(f"/api/v1/feeds/{feed['id']}").status_code == 204
    assert fetch(url).status_code == 404
    assert Client().get("/exports/feeds/bdf_guess.ics").status_code == 404
    assert Client().get("/exports/feeds/nonsense.ics").status_code == 404


def test_a_deactivated_users_feed_stops(as_user, alice, room):
    make_booking(room, alice, soon(2))
    url = new_feed(as_user(alice))
    alice.is_active = False
    alice.save()
    assert fetch(url).status_code == 404


def test_feed_events_keep_their_uid_across_polls(as_user, alice, room):
    booking = make_booking(room, alice, datetime(2030, 1, 1, 9, tzinfo=UTC))
    url = new_feed(as_user(alice))
    uids = [str(e["uid"]) for e in events(fetch(url))]
    assert uids == [f"booking-{booking.pk}@127.0.0.1"]
    assert [str(e["uid"]) for e in events(fetch(url))] == uids
