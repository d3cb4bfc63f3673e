"""The audit log in the Django admin: readable and filterable by admins, changeable by nobody."""

from __future__ import annotations

import pytest

from bookdesk.audit.models import AuditEvent
from bookdesk.audit.services import audit_record
from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db

LIST = "/admin/audit/auditevent/"


def rows(response) -> bytes:
    """The result table only (the filter sidebar names actions too)."""
    return response.content.split(b"<tbody>")[1].split(b"</tbody>")[0]


@pytest.fixture
def events(alice):
    return [
        audit_record(action="auth.login_failed", actor_email="mallory@example.com", ip="10.0.0.9"),
        audit_record(
            action="booking.requested", actor=alice, target_type="bookings.booking", target_id=42
        ),
    ]


def test_an_admin_lists_and_filters_the_log(client, carol, events):
    signed_in_client(client, carol)

    page = client.get(LIST, {"action": "auth.login_failed"})
    assert page.status_code == 200
    assert b"mallory@example.com" in page.content
    assert b"booking.requested" not in rows(page)


def test_an_admin_searches_by_actor_and_target(client, carol, events):
    signed_in_client(client, carol)

    by_actor = client.get(LIST, {"q": "mallory"})
    by_target = client.get(LIST, {"q": "42"})

    assert b"mallory@example.com" in by_actor.content
    assert b"alice@example.com" not in rows(by_actor)
    assert b"alice@example.com" in rows(by_target)


def test_nobody_may_add_change_or_delete_events(client, carol, events):
    signed_in_client(client, carol)
    event = events[0]

    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"{LIST}{event.pk}/change/", {"action": "changed"})
    client.post(LIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})

    event.refresh_from_db()
    assert event.action == "auth.login_failed"
    assert AuditEvent.objects.count() == 2


def test_a_requester_cannot_read_the_log(client, alice, events):
    signed_in_client(client, alice)
    response = client.get(LIST)
    assert response.status_code in (302, 403)
    assert b"mallory@example.com" not in response.content
