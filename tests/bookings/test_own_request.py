"""Nobody approves their own request, admins included (four eyes); others still can.

Decision for issue 12, item 11: approval is another person vouching for a request. An
approver or admin may still withdraw their own request (reject or cancel it).
"""

from __future__ import annotations

import pytest

from tests.bookings.apiclient import api_for
from tests.bookings.conftest import at
from tests.bookings.test_api import body


@pytest.fixture
def both_approve(hall, carol):
    return hall


@pytest.mark.parametrize("requester", ["bob", "carol"])
def test_an_approver_or_admin_cannot_approve_their_own_request(
    client, request, both_approve, bob, carol, requester
):
    hall = both_approve
    own = api_for(client, request.getfixturevalue(requester))
    created = own.post("/bookings", body(hall, at(3, 10), at(3, 11))).json()
    assert created["status"] == "pending"

    response = own.post(f"/bookings/{created['id']}/approve")
    assert response.status_code == 403
    assert response.json()["error"] == "own_request"
    (bulk,) = own.post("/bookings/decide", {"ids": [created["id"]], "action": "approve"}).json()
    assert (bulk["id"], bulk["ok"], bulk["error"]) == (created["id"], False, "own_request")
    assert own.get(f"/bookings/{created['id']}").json()["status"] == "pending"

    # Someone else who decides for the hall still can.
    other = api_for(client, carol if requester == "bob" else bob)
    approved = other.post(f"/bookings/{created['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["decided_by"] != created["requester"]


def test_an_approver_may_still_reject_their_own_request(client, hall, bob):
    own = api_for(client, bob)
    created = own.post("/bookings", body(hall, at(3, 10), at(3, 11))).json()
    response = own.post(f"/bookings/{created['id']}/reject", {"reason": "Not needed after all"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
