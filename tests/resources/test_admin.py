"""The Django admin: admins manage resources with opening hours inline; changes are audited."""

from __future__ import annotations

from bookdesk.audit.models import AuditEvent
from bookdesk.resources.models import Resource
from tests.accounts.helpers import signed_in_client


def test_an_admin_adds_a_resource_with_opening_hours(client, carol):
    signed_in_client(client, carol)
    form = {
        "name": "Admin room",
        "kind": "room",
        "location": "",
        "capacity": "6",
        "timezone": "Europe/Berlin",
        "description": "",
        "is_active": "on",
        "min_duration": "00:15:00",
        "max_duration": "08:00:00",
        "min_notice": "0",
        "max_advance": "365 00:00:00",
        "opening_hours-TOTAL_FORMS": "1",
        "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-0-weekday": "0",
        "opening_hours-0-opens": "08:00",
        "opening_hours-0-closes": "18:00",
        "blackouts-TOTAL_FORMS": "0",
        "blackouts-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/resources/resource/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    room = Resource.objects.get(name="Admin room")
    assert [(h.weekday, h.opens.hour) for h in room.opening_hours.all()] == [(0, 8)]
    actions = set(
        AuditEvent.objects.filter(target_id=str(room.pk)).values_list("action", flat=True)
    )
    assert actions == {"resource.created", "resource.updated"}
    assert client.get("/admin/bookings/booking/").status_code == 200


def test_non_admins_do_not_get_in(client, bob):
    signed_in_client(client, bob)
    response = client.get("/admin/resources/resource/")
    assert response.status_code == 302
