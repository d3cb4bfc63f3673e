"""The bookings API: request, read, decide, cancel; error shapes for conflicts and rules."""

from __future__ import annotations

import pytest

from bookdesk.bookings.models import Booking
from tests.bookings.apiclient import api_for
from tests.bookings.conftest import at


def body(resource, start, end, **extra):
    return {
        "resource": resource.pk,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "title": "Team meeting",
        "purpose": "Planning",
        "attendees": 4,
        **extra,
    }


def test_a_booking_is_created_and_read_back_with_offsets(client, room, alice):
    api = api_for(client, alice)
    response = api.post("/bookings", body(room, at(2, 10), at(2, 11)))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "approved"
    got = api.get(f"/bookings/{created['id']}").json()
    assert got["start"].endswith(("Z", "+00:00"))
    assert got["title"] == "Team meeting"
    assert got["requester"] == "alice@example.com"


def test_a_conflict_is_409_naming_the_slot(client, room, alice, dave):
    first = api_for(client, alice).post("/bookings", body(room, at(2, 10), at(2, 11))).json()
    response = api_for(client, dave).post("/bookings", body(room, at(2, 10, 30), at(2, 12)))
    assert response.status_code == 409
    payload = response.json()
    assert payload["error"] == "booking_conflict"
    assert payload["detail"]["slot"]["booking"] == first["id"]
    assert payload["detail"]["slot"]["start"] == at(2, 10).isoformat()


def test_rule_violations_are_422_with_a_message(client, room, alice):
    response = api_for(client, alice).post(
        "/bookings", body(room, at(2, 10), at(2, 11), attendees=99)
    )
    assert response.status_code == 422
    assert response.json()["error"] == "booking_rule"
    assert response.json()["detail"]["rule"] == "capacity"
    assert "at most 8 people" in response.json()["detail"]["message"]


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "tomorrow at ten"},
        {"start": "2030-01-01T10:00:00"},  # no offset
        {"attendees": 0},
        {"title": ""},
        {"resource": 999999},
    ],
)
def test_malformed_input_is_422_json(client, room, alice, bad):
    response = api_for(client, alice).post("/bookings", {**body(room, at(2, 10), at(2, 11)), **bad})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


def test_a_body_that_is_not_json_is_a_400_json_error(client, alice):
    # Unparseable JSON is a bad request; well-formed JSON with bad values is a 422.
    api = api_for(client, alice)
    response = client.post(
        "/api/v1/bookings", "{not json", content_type="application/json", **api.auth
    )
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")


def test_another_users_booking_is_404_unless_you_may_see_it(client, hall, alice, dave, bob, carol):
    created = api_for(client, alice).post("/bookings", body(hall, at(3, 10), at(3, 11))).json()
    assert api_for(client, dave).get(f"/bookings/{created['id']}").status_code == 404
    assert api_for(client, bob).get(f"/bookings/{created['id']}").status_code == 200
    assert api_for(client, carol).get(f"/bookings/{created['id']}").status_code == 200
    assert api_for(client, dave).post(f"/bookings/{created['id']}/cancel").status_code == 404


def test_approve_reject_and_cancel_through_the_api(client, hall, alice, bob):
    requester, approver = api_for(client, alice), api_for(client, bob)
    one = requester.post("/bookings", body(hall, at(3, 10), at(3, 11))).json()
    two = requester.post("/bookings", body(hall, at(4, 10), at(4, 11))).json()
    assert one["status"] == "pending"
    assert requester.post(f"/bookings/{one['id']}/approve").status_code == 403
    approved = approver.post(f"/bookings/{one['id']}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approver.post(f"/bookings/{one['id']}/approve").status_code == 409
    missing_reason = approver.post(f"/bookings/{two['id']}/reject", {"reason": ""})
    assert missing_reason.status_code == 422
    rejected = approver.post(f"/bookings/{two['id']}/reject", {"reason": "Exams"})
    assert rejected.json()["decision_reason"] == "Exams"
    cancelled = requester.post(f"/bookings/{one['id']}/cancel", {"scope": "one"})
    assert cancelled.status_code == 200
    assert [b["status"] for b in cancelled.json()] == ["cancelled"]


def test_bulk_decide(client, hall, alice, dave, bob):
    requester = api_for(client, alice)
    ids = [
        requester.post("/bookings", body(hall, at(d, 10), at(d, 11))).json()["id"] for d in (3, 4)
    ]
    hidden = api_for(client, dave).post("/bookings", body(hall, at(5, 10), at(5, 11))).json()
    response = api_for(client, bob).post(
        "/bookings/decide", {"ids": [*ids, 424242], "action": "reject", "reason": "Closed"}
    )
    assert response.status_code == 200
    assert [r["ok"] for r in response.json()] == [True, True, False]
    assert set(Booking.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"rejected"}
    # Dave cannot decide, and cannot even see Alice's requests.
    response = api_for(client, dave).post(
        "/bookings/decide", {"ids": [ids[0], hidden["id"]], "action": "approve"}
    )
    assert [r["error"] for r in response.json()] == ["not_found", "forbidden"]


def test_list_filters(client, room, hall, alice, dave, bob):
    mine = api_for(client, alice)
    mine.post("/bookings", body(room, at(2, 10), at(2, 11)))
    mine.post("/bookings", body(hall, at(3, 10), at(3, 11)))
    api_for(client, dave).post("/bookings", body(hall, at(4, 10), at(4, 11)))
    assert len(mine.get("/bookings").json()) == 2
    assert [b["status"] for b in mine.get("/bookings", status="pending").json()] == ["pending"]
    window = mine.get("/bookings", **{"from": at(2, 0).isoformat(), "to": at(3, 0).isoformat()})
    assert [b["resource"] for b in window.json()] == [room.pk]
    approver = api_for(client, bob)
    assert len(approver.get("/bookings", resource=hall.pk).json()) == 2
    assert approver.get("/bookings", mine="true").json() == []


def test_unauthenticated_is_401(client, room):
    assert client.get("/api/v1/bookings").status_code == 401
    assert client.get("/api/v1/availability").status_code == 401
