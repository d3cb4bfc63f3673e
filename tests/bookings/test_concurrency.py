"""Many people ask for the same slot at the same moment, through HTTP, against gunicorn.

Exactly one request may win: the others get a 409 naming the slot, and none a 500. This
runs on both databases: PostgreSQL's exclusion constraint, SQLite's IMMEDIATE transactions.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from bookdesk.bookings.models import Booking
from tests.bookings.conftest import at
from tests.conftest import start_app_server, stop_app_server

CLIENTS = 60
APPROVERS = 20


@pytest.mark.live
@pytest.mark.timeout(180)
def test_concurrent_overlapping_requests_yield_exactly_one_booking(transactional_db, tmp_path):
    from bookdesk.accounts.models import User
    from bookdesk.accounts.tokens import token_create
    from bookdesk.resources.models import Resource

    room = Resource.objects.create(name="Contested room", capacity=10)
    tokens = []
    for i in range(CLIENTS):
        user = User.objects.create_user(f"racer{i}@example.com", None)
        tokens.append(token_create(user=user, name="race").raw)
    base = at(5, 10)
    # Every request overlaps every other one (all contain 10:30-10:45), with varied edges.
    bodies = [
        {
            "resource": room.pk,
            "start": (base + timedelta(minutes=i % 30)).isoformat(),
            "end": (base + timedelta(minutes=45 + i % 20)).isoformat(),
            "title": f"Race {i}",
            "attendees": 2,
        }
        for i in range(CLIENTS)
    ]

    server = start_app_server(tmp_path, workers=2, threads=16)
    try:
        barrier = threading.Barrier(CLIENTS)

        def race(i):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tokens[i]}"
            # Warm the connection so the barrier releases requests, not TCP handshakes.
            session.get(f"{server.url}/healthz", timeout=30)
            barrier.wait(timeout=60)
            response = session.post(f"{server.url}/api/v1/bookings", json=bodies[i], timeout=60)
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(race, range(CLIENTS)))
    finally:
        stop_app_server(server)

    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1, (statuses, server.log()[-3000:])
    assert statuses.count(409) == CLIENTS - 1, statuses
    winner = next(payload for status, payload in results if status == 201)
    for status, payload in results:
        if status == 409:
            assert payload["error"] == "booking_conflict"
            assert payload["detail"]["slot"]["booking"] == winner["id"]
            assert payload["detail"]["slot"]["start"]
    assert list(Booking.objects.filter(holds_slot=True).values_list("pk", flat=True)) == [
        winner["id"]
    ]


@pytest.mark.live
@pytest.mark.timeout(180)
def test_concurrent_approvals_of_overlapping_requests_approve_exactly_one(
    transactional_db, tmp_path
):
    from django.contrib.auth.models import Group

    from bookdesk.accounts.models import Role, User
    from bookdesk.accounts.tokens import token_create
    from bookdesk.bookings.services import booking_request
    from bookdesk.resources.models import Resource

    approvers = Group.objects.create(name="racing approvers")
    hall = Resource.objects.create(name="Contested hall", capacity=50, requires_approval=True)
    hall.approver_groups.add(approvers)
    tokens, pending = [], []
    base = at(5, 10)
    for i in range(APPROVERS):
        approver = User.objects.create_user(f"approver{i}@example.com", None, role=Role.APPROVER)
        approver.groups.add(approvers)
        tokens.append(token_create(user=approver, name="race").raw)
        requester = User.objects.create_user(f"asker{i}@example.com", None)
        pending.append(
            booking_request(
                requester=requester,
                resource=hall,
                start=base + timedelta(minutes=i),
                end=base + timedelta(minutes=60 + i),
                title=f"Ask {i}",
            )
        )

    server = start_app_server(tmp_path, workers=2, threads=16)
    try:
        barrier = threading.Barrier(APPROVERS)

        def approve(i):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tokens[i]}"
            session.get(f"{server.url}/healthz", timeout=30)
            barrier.wait(timeout=60)
            response = session.post(
                f"{server.url}/api/v1/bookings/{pending[i].pk}/approve", timeout=60
            )
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=APPROVERS) as pool:
            results = list(pool.map(approve, range(APPROVERS)))
    finally:
        stop_app_server(server)

    statuses = [status for status, _ in results]
    assert statuses.count(200) == 1, (statuses, server.log()[-3000:])
    assert statuses.count(409) == APPROVERS - 1, (statuses, server.log()[-3000:])
    assert {payload["error"] for status, payload in results if status == 409} <= {
        "invalid_transition",
        "booking_conflict",
    }
    final = sorted(Booking.objects.filter(resource=hall).values_list("status", flat=True))
    assert final == ["approved"] + ["rejected"] * (APPROVERS - 1)
