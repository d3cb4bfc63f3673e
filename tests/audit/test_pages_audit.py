"""The audit log page: admins browse and filter it; nobody else may open it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookdesk.audit.models import AuditEvent
from bookdesk.audit.services import audit_record
from bookdesk.audit.views import PAGE_SIZE
from tests.accounts.helpers import signed_in_client


def event_at(when: datetime, **fields) -> AuditEvent:
    event = audit_record(**fields)
    # "at" defaults to now; tests of the date filter need other days. Update, not save():
    # the model refuses to save an existing row, as an append-only log should.
    AuditEvent.objects.filter(pk=event.pk).update(at=when)
    return event


@pytest.fixture
def events(alice, bob):
    return {
        "login": event_at(
            datetime(2026, 3, 1, 9, tzinfo=UTC), action="auth.login_succeeded", actor=alice
        ),
        "failed": event_at(
            datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
            action="auth.login_failed",
            actor_email="mallory@example.net",
        ),
        "approved": event_at(
            datetime(2026, 3, 5, 12, tzinfo=UTC),
            action="booking.approved",
            actor=bob,
            target_type="bookings.booking",
            target_id=42,
            reason="fine",
        ),
        "resource": event_at(
            datetime(2026, 3, 6, 12, tzinfo=UTC),
            action="resource.updated",
            actor=bob,
            target_type="resources.resource",
            target_id=42,
        ),
    }


def shown(response) -> set[int]:
    return {e.pk for e in response.context["page"].object_list}


@pytest.mark.parametrize("persona", ["alice", "bob"])
def test_only_admins_may_open_the_audit_log(client, request, persona):
    signed_in_client(client, request.getfixturevalue(persona))
    response = client.get("/audit/")
    assert response.status_code == 403
    assert b"for admins" in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/audit/")
    assert response.status_code == 302


def test_it_lists_everything_newest_first(client, carol, events):
    signed_in_client(client, carol)
    response = client.get("/audit/")
    assert response.status_code == 200
    order = [e.pk for e in response.context["page"].object_list]
    assert order[:4] == [events[k].pk for k in ("resource", "approved", "failed", "login")]
    html = response.content.decode()
    assert "mallory@example.net" in html
    assert "reason=fine" in html
    assert 'href="/bookings/42/"' in html
    assert 'href="/resources/42/"' in html


def test_it_filters_by_action(client, carol, events):
    signed_in_client(client, carol)
    response = client.get("/audit/", {"action": "auth.login_failed"})
    assert shown(response) == {events["failed"].pk}


def test_the_action_choices_are_the_recorded_actions(client, carol, events):
    signed_in_client(client, carol)
    choices = dict(client.get("/audit/").context["form"].fields["action"].choices)
    assert {"auth.login_failed", "booking.approved", "resource.updated"} <= set(choices)


def test_it_filters_by_part_of_the_actor_email(client, carol, events):
    signed_in_client(client, carol)
    response = client.get("/audit/", {"actor": "BOB@"})
    assert shown(response) == {events["approved"].pk, events["resource"].pk}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("bookings.booking:42", {"approved"}),
        ("resources.resource", {"resource"}),
        ("42", {"approved", "resource"}),
    ],
)
def test_it_filters_by_target(client, carol, events, target, expected):
    signed_in_client(client, carol)
    response = client.get("/audit/", {"target": target})
    assert shown(response) == {events[k].pk for k in expected}


def test_the_date_range_includes_both_end_days(client, carol, events):
    signed_in_client(client, carol)
    response = client.get("/audit/", {"date_from": "2026-03-02", "date_to": "2026-03-05"})
    assert shown(response) == {events["failed"].pk, events["approved"].pk}


def test_a_backwards_date_range_is_an_error(client, carol, events):
    signed_in_client(client, carol)
    response = client.get("/audit/", {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert response.status_code == 400
    assert b"before the start date" in response.content


def test_it_pages_and_keeps_the_filter_in_the_links(client, carol):
    for n in range(PAGE_SIZE + 3):
        audit_record(action="auth.code_sent", actor_email=f"user{n}@example.com")
    audit_record(action="auth.lockout", actor_email="x@example.com")
    signed_in_client(client, carol)
    first = client.get("/audit/", {"action": "auth.code_sent"})
    assert len(first.context["page"].object_list) == PAGE_SIZE
    assert "action=auth.code_sent&amp;page=2" in first.content.decode()
    second = client.get("/audit/", {"action": "auth.code_sent", "page": 2})
    assert len(second.context["page"].object_list) == 3


def test_an_odd_target_id_is_shown_as_text(client, carol):
    audit_record(action="booking.requested", target_type="bookings.booking", target_id="x-1")
    signed_in_client(client, carol)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert "bookings.booking:x-1" in response.content.decode()
