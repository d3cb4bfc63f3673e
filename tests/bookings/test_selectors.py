"""The approvals inbox and what each user may see."""

from __future__ import annotations

import pytest

from bookdesk.bookings import services
from bookdesk.bookings.errors import BookingConflict
from bookdesk.bookings.selectors import (
    booking_get_visible,
    bookings_visible_to,
    pending_for_approver,
    with_conflicts,
)
from bookdesk.core.errors import NotFound
from bookdesk.core.metrics import BOOKINGS
from tests.bookings.conftest import at


def ask(resource, who, day, hour, hours=1):
    return services.booking_request(
        requester=who,
        resource=resource,
        start=at(day, hour),
        end=at(day, hour + hours),
        title="x",
    )


def test_inbox_is_oldest_first_for_the_approvers_resources_with_conflicts(
    hall, room, alice, dave, bob, carol
):
    first = ask(hall, alice, 5, 10, hours=2)
    second = ask(hall, dave, 5, 11)
    third = ask(hall, dave, 6, 11)
    ask(room, alice, 5, 10)  # approved at once: not in anyone's inbox
    inbox = with_conflicts(pending_for_approver(bob))
    assert [b.pk for b in inbox] == [first.pk, second.pk, third.pk]
    assert [c.pk for c in inbox[0].conflicts] == [second.pk]
    assert [c.pk for c in inbox[1].conflicts] == [first.pk]
    assert inbox[2].conflicts == []
    assert list(pending_for_approver(carol)) == [first, second, third]
    assert list(pending_for_approver(alice)) == []


def test_visibility(hall, room, alice, dave, bob):
    mine = ask(hall, alice, 5, 10)
    on_room = ask(room, alice, 5, 10)
    assert set(bookings_visible_to(dave)) == set()
    assert set(bookings_visible_to(bob)) == {mine}  # bob approves the hall only
    assert booking_get_visible(alice, on_room.pk) == on_room
    with pytest.raises(NotFound):
        booking_get_visible(dave, mine.pk)
    with pytest.raises(NotFound):
        booking_get_visible(bob, on_room.pk)


def counter(action):
    return BOOKINGS.labels(action=action)._value.get()


def test_metrics_count_only_what_committed(room, alice, dave, django_capture_on_commit_callbacks):
    before = (counter("requested"), counter("approved"), counter("cancelled"))
    with django_capture_on_commit_callbacks(execute=True):
        booking = ask(room, alice, 5, 10)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingConflict):
        ask(room, dave, 5, 10)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=alice)
    after = (counter("requested"), counter("approved"), counter("cancelled"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]


def test_expiry_tells_the_requester(hall, alice):
    from bookdesk.notifications.models import OutboxMessage

    ask(hall, alice, 3, 10)
    OutboxMessage.objects.all().delete()
    assert services.bookings_expire_stale(now=at(4, 0)) == 1
    assert [m.to for m in OutboxMessage.objects.all()] == [["alice@example.com"]]
