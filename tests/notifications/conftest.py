"""Fixtures for the email tests: a test-only template and a way to run the worker once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def note_template(settings):
    """Adds tests/notifications/templates, which holds emails/test-note-*."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], HERE / "templates"]
    settings.TEMPLATES = templates
    return "test-note"


@pytest.fixture
def enqueue_note(note_template):
    from bookdesk.notifications.services import enqueue_email

    def enqueue(to="alice@example.com", topic="the hall", **kwargs):
        return enqueue_email(
            kind=kwargs.pop("kind", "test_note"),
            to=to,
            template=note_template,
            context={"name": "Alice", "topic": topic},
            **kwargs,
        )

    return enqueue


@pytest.fixture
def hall(db, bob):
    """A hall in Berlin that needs approval; Bob is its approver."""
    from django.contrib.auth.models import Group

    from bookdesk.resources.models import Resource

    group = Group.objects.create(name="hall approvers")
    bob.groups.add(group)
    hall = Resource.objects.create(
        name="Great Hall",
        kind="hall",
        location="Building A, ground floor",
        capacity=200,
        timezone="Europe/Berlin",
        requires_approval=True,
    )
    hall.approver_groups.add(group)
    return hall


@pytest.fixture
def hall_booking(hall, alice):
    """Alice's request for the hall, 14:00-16:00 Berlin time (summer: UTC+2) on 2 July 2030."""
    from datetime import UTC, datetime

    from bookdesk.bookings.models import Booking

    return Booking.objects.create(
        resource=hall,
        requester=alice,
        start=datetime(2030, 7, 2, 12, 0, tzinfo=UTC),
        end=datetime(2030, 7, 2, 14, 0, tzinfo=UTC),
        title="Choir rehearsal",
        purpose="Weekly practice & tea",
        attendees=40,
    )
