"""Demo resources and bookings for `bookdesk demo_data` (development only; safe to repeat)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from bookdesk.bookings.models import Booking
from bookdesk.bookings.services import booking_request
from bookdesk.resources.models import Blackout, OpeningHours, Resource

ZONE = "Europe/Berlin"
WEEKDAYS = range(5)
DEMO_TITLE = "Demo: "

RESOURCES = [
    # name, kind, location, capacity, requires_approval, pending_holds_slot, extra
    ("Aurora Room", "room", "Building A, floor 1", 8, False, False, {}),
    ("Borealis Room", "room", "Building A, floor 2", 14, False, False, {}),
    (
        "Great Hall",
        "hall",
        "Main building",
        200,
        True,
        False,
        {"min_notice": timedelta(days=1), "max_duration": timedelta(hours=12)},
    ),
    ("Lecture Theatre", "hall", "Building C", 120, True, True, {}),
    (
        "Minibus",
        "vehicle",
        "Car park",
        8,
        True,
        False,
        {"max_duration": timedelta(days=3), "min_duration": timedelta(hours=1)},
    ),
    ("Projector kit", "equipment", "IT desk", 1, False, False, {}),
]


def _next_weekday(days_ahead: int, hour: int, zone) -> datetime:
    day = timezone.now().astimezone(zone).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=zone)


def seed_demo(users: dict) -> None:
    approvers, _ = Group.objects.get_or_create(name="approvers")
    approvers.user_set.add(users["approver"])
    resources = {}
    for name, kind, location, capacity, approval, holds, extra in RESOURCES:
        resource, created = Resource.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "location": location,
                "capacity": capacity,
                "timezone": ZONE,
                "requires_approval": approval,
                "pending_holds_slot": holds,
                "description": f"A demo {kind}.",
                **extra,
            },
        )
        if created:
            if approval:
                resource.approver_groups.add(approvers)
            if kind in {"room", "hall"}:
                OpeningHours.objects.bulk_create(
                    OpeningHours(resource=resource, weekday=d, opens=time(8), closes=time(20))
                    for d in WEEKDAYS
                )
        resources[name] = resource
    zone = resources["Aurora Room"].zone
    if not Blackout.objects.filter(reason="Demo: carpet cleaning").exists():
        start = _next_weekday(12, 0, zone)
        Blackout.objects.create(
            resource=resources["Borealis Room"],
            start=start,
            end=start + timedelta(days=1),
            reason="Demo: carpet cleaning",
        )
    _seed_bookings(users["requester"], resources, zone)


def _seed_bookings(requester, resources, zone) -> None:
    if Booking.objects.filter(requester=requester, title__startswith=DEMO_TITLE).exists():
        return
    samples = [
        ("Aurora Room", 1, 10, 1, "team stand-up", 5),
        ("Borealis Room", 2, 14, 2, "project review", 10),
        ("Great Hall", 4, 15, 3, "spring concert rehearsal", 80),
        ("Lecture Theatre", 6, 9, 2, "guest lecture", 60),
        ("Minibus", 8, 8, 10, "field trip", 7),
    ]
    for name, days, hour, hours, title, attendees in samples:
        start = _next_weekday(days, hour, zone)
        booking_request(
            requester=requester,
            resource=resources[name],
            start=start,
            end=start + timedelta(hours=hours),
            title=DEMO_TITLE + title,
            purpose="Sample data from `bookdesk demo_data`.",
            attendees=attendees,
        )
