"""`bookdesk demo_data` adds resources and sample bookings, and can run again safely."""

from __future__ import annotations

from django.core.management import call_command

from bookdesk.accounts.models import User
from bookdesk.bookings.models import Booking
from bookdesk.bookings.selectors import pending_for_approver
from bookdesk.resources.models import Resource


def test_demo_data_is_idempotent_and_gives_the_approver_an_inbox(db, settings):
    settings.ENVIRONMENT = "development"
    call_command("demo_data")
    counts = (Resource.objects.count(), Booking.objects.count())
    call_command("demo_data")
    assert (Resource.objects.count(), Booking.objects.count()) == counts
    assert counts[0] >= 5 and counts[1] >= 4
    approver = User.objects.get(email="approver@example.com")
    assert Resource.objects.filter(requires_approval=True, approver_groups__user=approver).exists()
    inbox = list(pending_for_approver(approver))
    assert inbox, "the demo approver should have requests to decide"
    assert all(b.requester.email == "requester@example.com" for b in inbox)
