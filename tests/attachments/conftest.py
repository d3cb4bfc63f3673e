"""Personas for attachments: Alice requests, Bob approves the room, Carol is an admin,
Dave is another requester who must see nothing of Alice's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from tests.accounts.helpers import signed_in_client


@pytest.fixture(autouse=True)
def uploads_root(settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    return settings.UPLOADS_ROOT


@pytest.fixture
def room(db, bob):
    from bookdesk.resources.models import Resource

    group = Group.objects.create(name="Room approvers")
    bob.groups.add(group)
    resource = Resource.objects.create(name="Room 1", timezone="Europe/Berlin")
    resource.approver_groups.add(group)
    return resource


@pytest.fixture
def booking(room, alice):
    from bookdesk.bookings.models import Booking

    start = timezone.now() + timedelta(days=3)
    return Booking.objects.create(
        resource=room, requester=alice, start=start, end=start + timedelta(hours=1), title="Talk"
    )


@pytest.fixture
def as_user():
    """as_user(user) → a test client signed in (password + second factor) as ``user``."""

    def make(user):
        return signed_in_client(Client(), user)

    return make
