"""Resource management pages: admins create and edit resources, hours, approvers, blackouts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from bookdesk.audit.models import AuditEvent
from bookdesk.resources.models import Blackout, OpeningHours, Resource
from tests.accounts.helpers import signed_in_client


def form_data(**overrides) -> dict:
    data = {
        "name": "Studio",
        "kind": "room",
        "location": "Floor 2",
        "capacity": 12,
        "timezone": "Europe/Lisbon",
        "description": "",
        "is_active": "on",
        "min_duration_minutes": 30,
        "max_duration_minutes": 240,
        "min_notice_hours": 2,
        "max_advance_days": 90,
        "new_group": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def studio(carol):
    from bookdesk.resources.services import resource_create

    return resource_create(
        actor=carol,
        name="Studio",
        capacity=12,
        timezone="Europe/Lisbon",
        opening_hours=[
            {"weekday": 0, "opens": time(9), "closes": time(12)},
            {"weekday": 0, "opens": time(13), "closes": time(17)},
        ],
    )


@pytest.mark.parametrize("path", ["/resources/", "/resources/new/", "/resources/blackouts/"])
@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_only_admins_manage_resources(client, request, persona, path):
    signed_in_client(client, request.getfixturevalue(persona))
    assert client.get(path).status_code == 403


def test_non_admins_cannot_post_changes_either(client, bob, studio):
    signed_in_client(client, bob)
    response = client.post(f"/resources/{studio.pk}/", form_data(capacity=99))
    assert response.status_code == 403
    studio.refresh_from_db()
    assert studio.capacity == 12


def test_the_list_shows_every_resource(client, carol, studio):
    Resource.objects.create(name="Old van", kind="vehicle", is_active=False)
    signed_in_client(client, carol)
    html = client.get("/resources/").content.decode()
    assert "Studio" in html and "Old van" in html and "Inactive" in html


def test_an_admin_creates_a_resource_with_hours_and_approvers(client, carol):
    signed_in_client(client, carol)
    data = form_data(
        requires_approval="on",
        new_group="Studio approvers",
        limit_hours="on",
        hours_0="08:00-12:00, 13:00-18:00",
        hours_4="09:00-15:00",
    )
    response = client.post("/resources/new/", data)
    assert response.status_code == 302
    resource = Resource.objects.get(name="Studio")
    assert response["Location"] == f"/resources/{resource.pk}/"
    assert resource.requires_approval
    assert resource.min_duration == timedelta(minutes=30)
    assert resource.min_notice == timedelta(hours=2)
    assert resource.max_advance == timedelta(days=90)
    assert [g.name for g in resource.approver_groups.all()] == ["Studio approvers"]
    hours = sorted(resource.opening_hours.values_list("weekday", "opens", "closes"))
    assert hours == [
        (0, time(8), time(12)),
        (0, time(13), time(18)),
        (4, time(9), time(15)),
    ]
    assert AuditEvent.objects.filter(action="resource.created", actor=carol).count() == 1


def test_the_edit_form_shows_the_current_hours_per_weekday(client, carol, studio):
    signed_in_client(client, carol)
    html = client.get(f"/resources/{studio.pk}/").content.decode()
    assert 'value="09:00-12:00, 13:00-17:00"' in html


def test_editing_changes_fields_and_hours_and_is_audited(client, carol, studio):
    group = Group.objects.create(name="Front desk")
    signed_in_client(client, carol)
    data = form_data(capacity=20, approver_groups=[group.pk], limit_hours=None)
    response = client.post(f"/resources/{studio.pk}/", data)
    assert response.status_code == 302
    studio.refresh_from_db()
    assert studio.capacity == 20
    assert list(studio.approver_groups.all()) == [group]
    assert not OpeningHours.objects.filter(resource=studio).exists()  # around the clock now
    event = AuditEvent.objects.filter(action="resource.updated").latest("id")
    assert event.data["capacity"] == [12, 20]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours_1": "9-5"}, "hours_1", "Write hours as 09:00-17:00"),
        ({"hours_1": "17:00-09:00"}, "hours_1", "closing time is not after"),
        ({"hours_1": "09:00-12:00, 11:00-13:00"}, "hours_1", "overlap"),
        ({"hours_1": "", "limit_hours": "on"}, "limit_hours", "at least one day"),
        ({"max_duration_minutes": 10}, "max_duration_minutes", "shorter than the shortest"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Select a valid choice"),
        ({"capacity": 0}, "capacity", "greater than or equal to 1"),
    ],
)
def test_bad_input_is_a_422_on_the_field(client, carol, overrides, field, message):
    signed_in_client(client, carol)
    response = client.post("/resources/new/", form_data(**overrides))
    assert response.status_code == 422
    assert any(message in e for e in response.context["form"].errors[field])
    assert not Resource.objects.exists()


def test_a_duplicate_name_is_shown_on_the_name_field(client, carol, studio):
    signed_in_client(client, carol)
    response = client.post("/resources/new/", form_data())
    assert response.status_code == 422
    assert response.context["form"].errors["name"]


def test_a_resource_blackout_is_read_in_its_zone(client, carol, studio):
    signed_in_client(client, carol)
    response = client.post(
        f"/resources/{studio.pk}/blackouts/",
        {"start": "2027-07-01T08:00", "end": "2027-07-01T18:00", "reason": "Painting"},
    )
    assert response.status_code == 302
    blackout = Blackout.objects.get()
    assert blackout.resource == studio
    assert blackout.start == datetime(2027, 7, 1, 8, tzinfo=ZoneInfo("Europe/Lisbon"))
    html = client.get(f"/resources/{studio.pk}/").content.decode()
    assert "08:00\u201318:00 (Europe/Lisbon): Painting" in html


def test_a_blackout_for_all_resources_is_in_utc_and_can_be_removed(client, carol):
    signed_in_client(client, carol)
    response = client.post(
        "/resources/blackouts/",
        {"start": "2027-12-24T00:00", "end": "2027-12-27T00:00", "reason": "Holidays"},
    )
    assert response.status_code == 302
    blackout = Blackout.objects.get()
    assert blackout.resource is None
    assert blackout.start == datetime(2027, 12, 24, tzinfo=UTC)
    assert "Holidays" in client.get("/resources/blackouts/").content.decode()
    response = client.post(f"/resources/blackouts/{blackout.pk}/delete")
    assert response.status_code == 302
    assert not Blackout.objects.exists()
    removed = AuditEvent.objects.filter(action="resource.updated").latest("id")
    assert removed.data["blackout_removed"]["reason"] == "Holidays"


def test_a_backwards_blackout_is_refused(client, carol):
    signed_in_client(client, carol)
    response = client.post(
        "/resources/blackouts/",
        {"start": "2027-12-27T00:00", "end": "2027-12-24T00:00", "reason": "Oops"},
    )
    assert response.status_code == 422
    assert not Blackout.objects.exists()
