"""The booking lifecycle through the services, as the pages and the API use them."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction

from bookdesk.audit.models import AuditEvent
from bookdesk.bookings import services
from bookdesk.bookings.errors import BookingConflict, BookingRuleViolation, InvalidTransition
from bookdesk.bookings.models import Booking, BookingStatus
from bookdesk.core.errors import Forbidden
from bookdesk.core.http import status_for
from bookdesk.resources.models import Blackout, OpeningHours
from tests.bookings.conftest import at


def ask(resource, requester, start, end, attendees=1, title="Meeting"):
    return services.booking_request(
        requester=requester,
        resource=resource,
        start=start,
        end=end,
        title=title,
        purpose="",
        attendees=attendees,
    )


def test_a_room_without_approval_is_approved_at_once_and_holds_its_slot(room, alice):
    booking = ask(room, alice, at(2, 10), at(2, 11))
    assert booking.status == BookingStatus.APPROVED
    assert booking.holds_slot
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["booking.requested", "booking.approved"]


def test_a_hall_needing_approval_starts_pending_without_holding(hall, alice):
    booking = ask(hall, alice, at(3, 10), at(3, 12))
    assert booking.status == BookingStatus.PENDING
    assert not booking.holds_slot


def test_an_overlapping_request_is_a_conflict_naming_the_slot(room, alice, dave):
    first = ask(room, alice, at(2, 10), at(2, 11))
    with pytest.raises(BookingConflict) as caught:
        ask(room, dave, at(2, 10, 30), at(2, 11, 30))
    assert status_for(caught.value) == 409
    assert caught.value.conflicts[0]["booking"] == first.pk
    assert caught.value.conflicts[0]["start"] == first.start.isoformat()
    assert Booking.objects.count() == 1


def test_back_to_back_bookings_do_not_conflict(room, alice, dave):
    ask(room, alice, at(2, 10), at(2, 11))
    ask(room, dave, at(2, 11), at(2, 12))
    assert Booking.objects.filter(holds_slot=True).count() == 2


@pytest.mark.postgres  # SQLite has no exclusion constraints; its writers are serialised
def test_the_database_refuses_an_overlap_even_past_the_services(room, alice):
    """The exclusion constraint itself, bypassing the services' own check."""
    ask(room, alice, at(2, 10), at(2, 11))
    overlapping = Booking(
        resource=room,
        requester=alice,
        start=at(2, 10, 15),
        end=at(2, 10, 45),
        title="sneaky",
        status=BookingStatus.APPROVED,
        holds_slot=True,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        overlapping.save()


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"attendees": 9}, "capacity"),
        ({"minutes": 5}, "min_duration"),
        ({"minutes": 9 * 60}, "max_duration"),
        ({"days": -2}, "in_past"),
        ({"days": 400}, "max_advance"),
    ],
)
def test_rules_are_enforced_with_a_clear_message(room, alice, change, rule):
    days = change.get("days", 2)
    start = at(days, 8)
    end = start + timedelta(minutes=change.get("minutes", 60))
    with pytest.raises(BookingRuleViolation) as caught:
        ask(room, alice, start, end, attendees=change.get("attendees", 1))
    assert caught.value.rule == rule
    assert status_for(caught.value) == 422
    assert caught.value.message


def test_min_notice_and_inactive_resource(room, alice):
    room.min_notice = timedelta(days=3)
    room.save()
    with pytest.raises(BookingRuleViolation) as caught:
        ask(room, alice, at(1, 10), at(1, 11))
    assert caught.value.rule == "min_notice"
    room.is_active = False
    room.save()
    with pytest.raises(BookingRuleViolation) as caught:
        ask(room, alice, at(5, 10), at(5, 11))
    assert caught.value.rule == "inactive"


def test_opening_hours_are_local_to_the_resource(hall, alice):
    start = at(7, 9, zone=hall.zone)
    weekday = start.weekday()
    OpeningHours.objects.create(resource=hall, weekday=weekday, opens=time(8), closes=time(18))
    ask(hall, alice, start, start + timedelta(hours=2))  # 09:00-11:00 Berlin time: fine
    with pytest.raises(BookingRuleViolation) as caught:
        ask(hall, alice, at(7, 17, zone=hall.zone), at(7, 19, zone=hall.zone))
    assert caught.value.rule == "opening_hours"
    assert "08:00-18:00" in caught.value.message
    with pytest.raises(BookingRuleViolation) as caught:
        ask(hall, alice, at(8, 9, zone=hall.zone), at(8, 10, zone=hall.zone))
    assert caught.value.rule == "opening_hours"


def test_blackouts_for_one_resource_or_all(room, hall, alice):
    Blackout.objects.create(resource=None, start=at(4, 0), end=at(5, 0), reason="Holiday")
    Blackout.objects.create(resource=room, start=at(6, 0), end=at(7, 0), reason="Painting")
    for resource in (room, hall):
        with pytest.raises(BookingRuleViolation) as caught:
            ask(resource, alice, at(4, 10), at(4, 11))
        assert "Holiday" in caught.value.message
    with pytest.raises(BookingRuleViolation):
        ask(room, alice, at(6, 10), at(6, 11))
    ask(hall, alice, at(6, 10), at(6, 11))


def test_approving_rejects_overlapping_pending_requests(hall, alice, dave, bob):
    mine = ask(hall, alice, at(3, 10), at(3, 12))
    theirs = ask(hall, dave, at(3, 11), at(3, 13))
    elsewhere = ask(hall, dave, at(3, 14), at(3, 15))
    services.booking_approve(booking=mine, actor=bob)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (mine.status, mine.holds_slot, mine.decided_by) == ("approved", True, bob)
    assert theirs.status == "rejected"
    assert theirs.decision_reason == services.AUTO_REJECT_REASON
    assert elsewhere.status == "pending"
    assert AuditEvent.objects.filter(action="booking.rejected", target_id=str(theirs.pk)).exists()


def test_only_an_approver_of_that_resource_or_an_admin_decides(hall, alice, dave, carol):
    booking = ask(hall, alice, at(3, 10), at(3, 12))
    from bookdesk.accounts.models import Role, User

    outsider = User.objects.create_user("eve@example.com", "x" * 12, role=Role.APPROVER)
    for actor in (alice, dave, outsider):
        with pytest.raises(Forbidden):
            services.booking_approve(booking=booking, actor=actor)
    services.booking_approve(booking=booking, actor=carol)
    booking.refresh_from_db()
    assert booking.status == "approved"


def test_reject_needs_a_reason_and_states_cannot_be_skipped(hall, alice, bob):
    booking = ask(hall, alice, at(3, 10), at(3, 12))
    with pytest.raises(BookingRuleViolation):
        services.booking_reject(booking=booking, actor=bob, reason="  ")
    services.booking_reject(booking=booking, actor=bob, reason="Exams that week")
    with pytest.raises(InvalidTransition):
        services.booking_approve(booking=booking, actor=bob)
    with pytest.raises(InvalidTransition):
        services.booking_cancel(booking=booking, actor=alice)
    booking.refresh_from_db()
    assert booking.status == "rejected"
    assert booking.decision_reason == "Exams that week"


def test_approving_a_request_whose_slot_was_taken_is_a_conflict(hall, alice, dave, bob):
    hall.requires_approval = False
    hall.save()
    taken = ask(hall, dave, at(3, 10), at(3, 12))
    # A pending request on the same slot, made while approval was still required.
    pending = Booking.objects.create(
        resource=hall,
        requester=alice,
        start=at(3, 11),
        end=at(3, 13),
        title="late",
        status=BookingStatus.PENDING,
    )
    with pytest.raises(BookingConflict) as caught:
        services.booking_approve(booking=pending, actor=bob)
    assert caught.value.conflicts[0]["booking"] == taken.pk
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_pending_holds_its_slot_when_the_resource_says_so(hall, alice, dave):
    hall.pending_holds_slot = True
    hall.save()
    first = ask(hall, alice, at(3, 10), at(3, 12))
    assert first.holds_slot
    with pytest.raises(BookingConflict):
        ask(hall, dave, at(3, 11), at(3, 13))


def test_requester_or_admin_cancels_and_the_slot_frees(room, alice, dave, carol):
    booking = ask(room, alice, at(2, 10), at(2, 11))
    with pytest.raises(Forbidden):
        services.booking_cancel(booking=booking, actor=dave)
    services.booking_cancel(booking=booking, actor=alice)
    booking.refresh_from_db()
    assert (booking.status, booking.holds_slot) == ("cancelled", False)
    again = ask(room, dave, at(2, 10), at(2, 11))
    services.booking_cancel(booking=again, actor=carol)


def test_pending_requests_whose_start_passed_expire(hall, alice):
    booking = ask(hall, alice, at(3, 10), at(3, 12))
    later = ask(hall, alice, at(9, 10), at(9, 12))
    assert services.bookings_expire_stale(now=at(4, 0)) == 1
    booking.refresh_from_db()
    later.refresh_from_db()
    assert (booking.status, later.status) == ("expired", "pending")
    assert AuditEvent.objects.filter(action="booking.expired").count() == 1
    assert services.bookings_expire_stale(now=at(4, 0)) == 0


def test_bulk_decide_reports_each_request(hall, room, alice, bob):
    a = ask(hall, alice, at(3, 10), at(3, 11))
    b = ask(hall, alice, at(4, 10), at(4, 11))
    c = ask(room, alice, at(4, 10), at(4, 11))  # already approved
    results = services.bookings_decide(ids=[a.pk, b.pk, c.pk, 999999], action="approve", actor=bob)
    by_id = {r["id"]: r for r in results}
    assert by_id[a.pk]["ok"] and by_id[b.pk]["ok"]
    assert by_id[c.pk] == {
        "id": c.pk,
        "ok": False,
        "error": "forbidden",
        "message": "Only an approver of this resource or an admin may decide.",
    }
    assert by_id[999999]["error"] == "not_found"


def test_each_change_queues_its_mail_in_the_same_transaction(hall, alice, dave, bob):
    from bookdesk.notifications.models import OutboxMessage

    mine = ask(hall, alice, at(3, 10), at(3, 12))
    ask(hall, dave, at(3, 11), at(3, 13))
    queued = list(OutboxMessage.objects.values_list("kind", "to"))
    assert queued == [("booking_requested", ["bob@example.com"])] * 2
    before = OutboxMessage.objects.count()
    services.booking_approve(booking=mine, actor=bob)
    new = OutboxMessage.objects.order_by("id")[before:]
    recipients = sorted(addr for m in new for addr in m.to)
    assert recipients == ["alice@example.com", "dave@example.com"]
    assert OutboxMessage.objects.count() == before + 2


def test_a_change_that_fails_after_queueing_its_mail_leaves_no_mail(room, alice, monkeypatch):
    """The failure comes after the booking, its audit row and its mail were written: only the
    service's own transaction can take them back (no transaction here in the test)."""
    from bookdesk.notifications.models import OutboxMessage

    booking = ask(room, alice, at(3, 10), at(3, 12))  # approved at once
    before = OutboxMessage.objects.count()

    def metrics_down(*args, **kwargs):
        raise RuntimeError("metrics down")

    monkeypatch.setattr(services, "_count_after_commit", metrics_down)
    with pytest.raises(RuntimeError):
        services.booking_cancel(booking=booking, actor=alice)
    booking.refresh_from_db()
    assert (booking.status, booking.holds_slot) == (BookingStatus.APPROVED, True)
    assert OutboxMessage.objects.count() == before
    assert not AuditEvent.objects.filter(action="booking.cancelled").exists()


def test_an_automatic_approval_names_no_approver(room, alice, rf):
    """Even inside the requester's own request, nobody decided: the audit row's actor and the
    booking's decided_by stay empty."""
    request = rf.post("/book/")
    request.user = alice
    booking = services.booking_request(
        requester=alice,
        resource=room,
        start=at(3, 10),
        end=at(3, 11),
        title="Sync",
        request=request,
    )
    assert booking.status == BookingStatus.APPROVED and booking.decided_by is None
    approved = AuditEvent.objects.get(action="booking.approved", target_id=str(booking.pk))
    assert approved.actor is None
    assert approved.data["automatic"] is True
    requested = AuditEvent.objects.get(action="booking.requested", target_id=str(booking.pk))
    assert requested.actor == alice
