"""Resources the booking tests share: a free-for-all room and a hall that needs approval."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone


def at(days: int, hour: int, minute: int = 0, zone=None) -> datetime:
    """An aware datetime ``days`` from today at the given wall-clock time (UTC by default).

    "Today" is the UTC date for every zone, so that ``at(2, 14)`` and
    ``at(2, 14, zone=berlin)`` name the same calendar day even in the hour when Berlin's
    date is already tomorrow's.
    """
    zone = zone or ZoneInfo("UTC")
    day = timezone.now().astimezone(ZoneInfo("UTC")).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


@pytest.fixture
def approvers(bob):
    group = Group.objects.create(name="hall approvers")
    bob.groups.add(group)
    return group


@pytest.fixture
def room(db):
    from bookdesk.resources.models import Resource

    return Resource.objects.create(name="Room 1", capacity=8, timezone="UTC")


@pytest.fixture
def hall(db, approvers):
    from bookdesk.resources.models import Resource

    hall = Resource.objects.create(
        name="Great Hall",
        kind="hall",
        capacity=200,
        timezone="Europe/Berlin",
        requires_approval=True,
    )
    hall.approver_groups.add(approvers)
    return hall
