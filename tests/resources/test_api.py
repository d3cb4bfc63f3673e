"""Resources, blackouts and availability through the API."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bookdesk.audit.models import AuditEvent
from bookdesk.bookings import services
from bookdesk.resources.models import Resource
from tests.bookings.apiclient import api_for
from tests.bookings.conftest import at

NEW_ROOM = {
    "name": "Lab 3",
    "kind": "room",
    "location": "Building B",
    "capacity": 12,
    "timezone": "America/New_York",
    "requires_approval": True,
    "approver_groups": ["lab approvers"],
    "min_duration_minutes": 30,
    "max_duration_minutes": 240,
    "opening_hours": [{"weekday": d, "opens": "08:00", "closes": "18:00"} for d in range(5)],
}


def test_admins_create_and_change_resources_and_it_is_audited(client, carol):
    api = api_for(client, carol)
    response = api.post("/resources", NEW_ROOM)
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("name", "timezone", "capacity", "requires_approval")} == {
        "name": "Lab 3",
        "timezone": "America/New_York",
        "capacity": 12,
        "requires_approval": True,
    }
    assert created["approver_groups"] == ["lab approvers"]
    assert len(created["opening_hours"]) == 5
    patched = api.patch(f"/resources/{created['id']}", {"capacity": 20, "opening_hours": []})
    assert patched.status_code == 200
    assert (patched.json()["capacity"], patched.json()["opening_hours"]) == (20, [])
    actions = list(
        AuditEvent.objects.filter(target_type="resources.resource").values_list("action", "data")
    )
    assert actions[0][0] == "resource.updated"
    assert actions[0][1]["capacity"] == [12, 20]
    assert actions[1][0] == "resource.created"


def test_others_may_list_but_not_manage(client, alice, room):
    api = api_for(client, alice)
    listed = api.get("/resources").json()
    assert [r["name"] for r in listed] == ["Room 1"]
    assert api.post("/resources", NEW_ROOM).status_code == 403
    assert api.patch(f"/resources/{room.pk}", {"capacity": 3}).status_code == 403
    assert (
        api.post(
            "/blackouts",
            {"start": at(1, 0).isoformat(), "end": at(2, 0).isoformat(), "reason": "x"},
        ).status_code
        == 403
    )


def test_invalid_resource_values_are_422(client, carol):
    api = api_for(client, carol)
    for bad in (
        {"timezone": "Mars/Olympus"},
        {"capacity": 0},
        {"kind": "spaceship"},
        {"min_duration_minutes": 60, "max_duration_minutes": 30},
    ):
        response = api.post("/resources", {**NEW_ROOM, **bad})
        assert response.status_code == 422, (bad, response.content)
        assert response.json()["error"] == "invalid"
    assert not Resource.objects.exists()


def test_blackouts_through_the_api_block_bookings(client, carol, alice, room):
    admin = api_for(client, carol)
    response = admin.post(
        "/blackouts",
        {
            "resource": room.pk,
            "start": at(3, 0).isoformat(),
            "end": at(4, 0).isoformat(),
            "reason": "Maintenance",
        },
    )
    assert response.status_code == 201
    blocked = api_for(client, alice).post(
        "/bookings",
        {
            "resource": room.pk,
            "start": at(3, 9).isoformat(),
            "end": at(3, 10).isoformat(),
            "title": "x",
        },
    )
    assert blocked.status_code == 422
    assert blocked.json()["detail"]["rule"] == "blackout"
    assert admin.get("/blackouts", resource=room.pk).json()[0]["reason"] == "Maintenance"
    assert admin.delete(f"/blackouts/{response.json()['id']}").status_code == 204


def make_rooms(first, last):
    return Resource.objects.bulk_create(
        Resource(name=f"Room {i:03d}", capacity=10 + i % 20, kind="room" if i % 2 else "hall")
        for i in range(first, last)
    )


def test_availability_shows_free_and_busy_per_resource(client, alice, room):
    services.booking_request(
        requester=alice, resource=room, start=at(2, 10), end=at(2, 11), title="x", attendees=1
    )
    other = Resource.objects.create(name="Room 2", capacity=30)
    response = api_for(client, alice).get(
        "/availability", start=at(2, 9).isoformat(), end=at(2, 12).isoformat(), free="true"
    )
    assert response.status_code == 200
    by_name = {r["name"]: r for r in response.json()["resources"]}
    assert by_name["Room 1"]["is_free"] is False
    assert [(b["kind"], b["status"]) for b in by_name["Room 1"]["busy"]] == [
        ("booking", "approved")
    ]
    assert len(by_name["Room 1"]["free"]) == 2
    assert by_name["Room 2"]["is_free"] is True
    only_big = api_for(client, alice).get(
        "/availability", start=at(2, 9).isoformat(), end=at(2, 12).isoformat(), capacity=20
    )
    assert [r["id"] for r in only_big.json()["resources"]] == [other.pk]


def test_availability_rejects_bad_windows(client, alice):
    api = api_for(client, alice)
    assert (
        api.get("/availability", start=at(2, 9).isoformat(), end=at(2, 8).isoformat()).status_code
        == 422
    )
    assert (
        api.get(
            "/availability",
            start=at(2, 9).isoformat(),
            end=(at(2, 9) + timedelta(days=40)).isoformat(),
        ).status_code
        == 422
    )
    assert api.get("/availability", start="soon", end="later").status_code == 422


def _availability_queries(client, alice, django_assert_max_num_queries, limit, free):
    api = api_for(client, alice)
    with django_assert_max_num_queries(limit) as captured:
        response = api.get(
            "/availability", start=at(1, 0).isoformat(), end=at(8, 0).isoformat(), free=free
        )
    assert response.status_code == 200
    return len(captured.captured_queries), len(response.json()["resources"])


@pytest.mark.parametrize("free", ["false", "true"])
def test_availability_query_count_does_not_grow_with_resources(
    client, alice, django_assert_max_num_queries, free
):
    rooms = make_rooms(0, 5)
    for r in rooms:
        services.booking_request(
            requester=alice, resource=r, start=at(2, 10), end=at(2, 11), title="x"
        )
    few, n_few = _availability_queries(client, alice, django_assert_max_num_queries, 12, free)
    more = make_rooms(5, 50)
    for r in more:
        services.booking_request(
            requester=alice, resource=r, start=at(3, 10), end=at(3, 11), title="x"
        )
    many, n_many = _availability_queries(client, alice, django_assert_max_num_queries, few, free)
    assert (n_few, n_many) == (5, 50)
    assert many == few


def test_busy_only_and_full_answers_agree(client, alice, room, hall):
    """On PostgreSQL the busy-only answer comes from SQL; it must match the Python one."""
    from bookdesk.resources.models import Blackout

    for days in (2, 3):
        services.booking_request(
            requester=alice, resource=room, start=at(days, 10), end=at(days, 11), title="x"
        )
    Blackout.objects.create(resource=None, start=at(2, 12), end=at(2, 13), reason="Drill")
    Blackout.objects.create(resource=room, start=at(2, 8), end=at(2, 9), reason="Clean")
    api = api_for(client, alice)
    window = {"start": at(2, 0).isoformat(), "end": at(4, 0).isoformat()}
    quick = api.get("/availability", **window).json()
    full = api.get("/availability", **window, free="true").json()

    def busy(answer):
        return {
            r["id"]: [
                (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]), b["kind"])
                for b in r["busy"]
            ]
            for r in answer["resources"]
        }

    assert busy(quick) == busy(full)
    assert [b[2] for b in busy(quick)[room.pk]] == ["blackout", "booking", "blackout", "booking"]
    assert {r["id"]: r["is_free"] for r in quick["resources"]} == {
        r["id"]: r["is_free"] for r in full["resources"]
    }
    assert "free" not in quick["resources"][0]
    assert "free" in full["resources"][0]
