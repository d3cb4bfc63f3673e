"""Bookings to export. Bob approves Room 1 (Berlin); nobody is in Hall's approver groups.
Alice and Dave each have bookings; Carol is an admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.accounts.helpers import signed_in_client


@pytest.fixture
def room(db, bob):
    from bookdesk.resources.models import Resource

    group = Group.objects.create(name="Room approvers")
    bob.groups.add(group)
    resource = Resource.objects.create(name="Room 1", location="Floor 2", timezone="Europe/Berlin")
    resource.approver_groups.add(group)
    return resource


@pytest.fixture
def hall(db):
    from bookdesk.resources.models import Resource

    return Resource.objects.create(name="Hall", timezone="America/New_York")


def make_booking(resource, requester, start, *, title="Meeting", status="approved", **extra):
    from bookdesk.bookings.models import Booking

    return Booking.objects.create(
        resource=resource,
        requester=requester,
        start=start,
        end=start + timedelta(hours=1),
        title=title,
        status=status,
        **extra,
    )


@pytest.fixture
def bookings(room, hall, alice, dave):
    """Four bookings in December 2026, one per (resource, requester) pair."""
    return {
        "alice_room": make_booking(
            room, alice, datetime(2026, 12, 1, 9, tzinfo=UTC), title="Team sync"
        ),
        "dave_room": make_booking(
            room, dave, datetime(2026, 12, 2, 9, tzinfo=UTC), title="Dave in room", status="pending"
        ),
        "alice_hall": make_booking(
            hall, alice, datetime(2026, 12, 3, 15, tzinfo=UTC), title="Alice in hall"
        ),
        "dave_hall": make_booking(
            hall,
            dave,
            datetime(2026, 12, 20, 15, tzinfo=UTC),
            title="Dave in hall",
            status="cancelled",
        ),
    }


@pytest.fixture
def as_user():
    def make(user):
        return signed_in_client(Client(), user)

    return make
