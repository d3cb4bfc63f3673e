"""The approvals inbox and deciding from a booking's page."""

from __future__ import annotations

import pytest

from bookdesk.bookings import services
from bookdesk.bookings.models import Booking, BookingStatus
from tests.accounts.helpers import signed_in_client
from tests.bookings.conftest import at


def ask(user, hall, day, hour, title):
    return services.booking_request(
        requester=user,
        resource=hall,
        start=at(day, hour, zone=hall.zone),
        end=at(day, hour + 2, zone=hall.zone),
        title=title,
        attendees=10,
    )


@pytest.fixture
def requests_(alice, dave, hall):
    first = ask(alice, hall, 2, 10, "Choir")
    clash = ask(dave, hall, 2, 11, "Band")
    later = ask(dave, hall, 3, 10, "Lecture")
    return first, clash, later


def test_requesters_have_no_inbox(client, alice):
    signed_in_client(client, alice)
    assert client.get("/approvals/").status_code == 403


def test_the_inbox_lists_pending_requests_oldest_first_with_clashes(client, bob, requests_):
    first, clash, later = requests_
    signed_in_client(client, bob)
    response = client.get("/approvals/")
    assert response.status_code == 200
    pending = response.context["pending"]
    assert [b.pk for b in pending] == [first.pk, clash.pk, later.pk]
    assert [c.pk for c in pending[0].conflicts] == [clash.pk]
    assert pending[2].conflicts == []
    html = response.content.decode()
    assert "(Europe/Berlin)" in html


def test_an_approver_sees_only_resources_of_their_groups(client, bob, alice, room, requests_):
    from bookdesk.resources.models import Resource

    other = Resource.objects.create(name="Van", kind="vehicle", capacity=20, requires_approval=True)
    services.booking_request(
        requester=alice, resource=other, start=at(2, 9), end=at(2, 10), title="Trip"
    )
    signed_in_client(client, bob)
    titles = [b.title for b in client.get("/approvals/").context["pending"]]
    assert "Trip" not in titles and len(titles) == 3


def test_approving_one_rejects_its_clash(client, bob, requests_):
    first, clash, _later = requests_
    signed_in_client(client, bob)
    response = client.post("/approvals/", {"booking": [first.pk], "decision": "approve"})
    assert response.status_code == 302
    first.refresh_from_db()
    clash.refresh_from_db()
    assert first.status == BookingStatus.APPROVED
    assert clash.status == BookingStatus.REJECTED


def test_rejecting_many_needs_a_reason(client, bob, requests_):
    signed_in_client(client, bob)
    ids = [b.pk for b in requests_]
    response = client.post("/approvals/", {"booking": ids, "decision": "reject", "reason": " "})
    assert response.status_code == 422
    assert "Give a reason to reject." in response.content.decode()
    assert Booking.objects.filter(status=BookingStatus.PENDING).count() == 3
    response = client.post(
        "/approvals/", {"booking": ids, "decision": "reject", "reason": "Closed for works"}
    )
    assert response.status_code == 302
    reasons = set(Booking.objects.values_list("status", "decision_reason"))
    assert reasons == {(BookingStatus.REJECTED, "Closed for works")}


def test_approving_two_clashing_requests_reports_the_second(client, bob, requests_):
    first, clash, _later = requests_
    signed_in_client(client, bob)
    response = client.post("/approvals/", {"booking": [first.pk, clash.pk], "decision": "approve"})
    assert response.status_code == 409
    assert "\u201cBand\u201d" in response.content.decode()
    first.refresh_from_db()
    assert first.status == BookingStatus.APPROVED


def test_choosing_nothing_is_an_error(client, bob, requests_):
    signed_in_client(client, bob)
    response = client.post("/approvals/", {"decision": "approve"})
    assert response.status_code == 422
    assert "Choose at least one request." in response.content.decode()


def test_the_detail_page_offers_the_decision_to_the_approver_only(client, alice, bob, requests_):
    first = requests_[0]
    signed_in_client(client, alice)
    assert "Approve" not in client.get(f"/bookings/{first.pk}/").content.decode()
    assert client.post(f"/bookings/{first.pk}/decide", {"decision": "approve"}).status_code == 403
    signed_in_client(client, bob)
    assert "Approve" in client.get(f"/bookings/{first.pk}/").content.decode()
    response = client.post(f"/bookings/{first.pk}/decide", {"decision": "approve"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == BookingStatus.APPROVED
    history = client.get(f"/bookings/{first.pk}/").context["history"]
    assert [e.action for e in history] == ["booking.requested", "booking.approved"]


def test_deciding_an_already_decided_request_is_a_409(client, bob, requests_):
    first = requests_[0]
    signed_in_client(client, bob)
    client.post(f"/bookings/{first.pk}/decide", {"decision": "reject", "reason": "No"})
    response = client.post(f"/bookings/{first.pk}/decide", {"decision": "approve"})
    assert response.status_code == 409
    assert "Only pending requests" in response.content.decode()


def test_a_long_inbox_is_paged_oldest_first(client, bob, alice, hall, monkeypatch):
    from bookdesk.bookings import approval_views

    monkeypatch.setattr(approval_views, "INBOX_PAGE_SIZE", 2)
    made = [ask(alice, hall, 2 + n, 10, f"Request {n}") for n in range(3)]
    signed_in_client(client, bob)
    first = client.get("/approvals/")
    assert [b.pk for b in first.context["pending"]] == [made[0].pk, made[1].pk]
    assert "3 requests waiting" in first.content.decode()
    second = client.get("/approvals/", {"page": 2})
    assert [b.pk for b in second.context["pending"]] == [made[2].pk]
