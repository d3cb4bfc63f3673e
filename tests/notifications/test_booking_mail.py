"""The booking emails: who gets what, worded in the resource's time zone, with the .ics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from icalendar import Calendar

from bookdesk.bookings import mail as booking_mail
from bookdesk.bookings.models import Booking
from bookdesk.notifications.models import OutboxMessage
from bookdesk.resources.models import Resource
from tests.notifications.helpers import run_worker

pytestmark = pytest.mark.django_db

WHEN = "Tuesday 2 July 2030, 14:00 to 16:00 (Europe/Berlin)"


def rows(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=kind).order_by("id"))


def ics_of(message: OutboxMessage) -> Calendar:
    [attachment] = message.attachments
    assert attachment["filename"] == "booking.ics"
    assert attachment["mimetype"] == "text/calendar"
    return Calendar.from_ical(attachment["content"])


def decide(booking: Booking, status: str, by=None, reason: str = "") -> Booking:
    booking.status = status
    booking.decided_by = by
    booking.decided_at = timezone.now()
    booking.decision_reason = reason
    booking.save()
    return booking


def test_a_request_goes_to_each_approver_with_a_link_and_local_time(
    settings, hall_booking, bob, carol
):
    settings.SITE_URL = "https://book.example.org"
    assert booking_mail.notify_request_received(hall_booking) == 1

    [message] = rows("booking_requested")
    assert message.to == ["bob@example.com"]
    assert message.subject == f"New request for Great Hall: {WHEN}"
    assert "Alice Requester asks to book Great Hall" in message.text
    assert "Weekly practice & tea" in message.text
    assert f"https://book.example.org/bookings/{hall_booking.pk}/" in message.text
    assert f'href="https://book.example.org/bookings/{hall_booking.pk}/"' in message.html
    assert "Weekly practice &amp; tea" in message.html


def test_a_request_for_a_resource_without_approvers_goes_to_the_admins(alice, carol):
    room = Resource.objects.create(name="Room 7", timezone="UTC")
    booking = Booking.objects.create(
        resource=room,
        requester=alice,
        start=datetime(2030, 1, 8, 9, 0, tzinfo=UTC),
        end=datetime(2030, 1, 8, 10, 0, tzinfo=UTC),
        title="Stand-up",
    )
    booking_mail.notify_request_received(booking)
    [message] = rows("booking_requested")
    assert message.to == ["carol@example.com"]
    assert "Tuesday 8 January 2030, 09:00 to 10:00 (UTC)" in message.text


def test_queuing_the_same_notice_twice_sends_it_once(hall_booking):
    booking_mail.notify_request_received(hall_booking)
    booking_mail.notify_request_received(hall_booking)
    assert len(rows("booking_requested")) == 1


def test_an_approval_goes_to_the_requester_with_a_calendar_event(hall_booking, bob, settings):
    settings.SITE_URL = "https://book.example.org"
    decide(hall_booking, "approved", by=bob)
    booking_mail.notify_decided(hall_booking)

    [message] = rows("booking_approved")
    assert message.to == ["alice@example.com"]
    assert message.subject == f"Approved: Great Hall, {WHEN}"
    assert "Bob Approver approved it" in message.text

    calendar = ics_of(message)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{hall_booking.pk}@book.example.org"
    assert event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]) == "Choir rehearsal (Great Hall)"
    assert str(event["LOCATION"]) == "Great Hall, Building A, ground floor"
    # Local wall-clock time with its zone, and the zone's definition travels along.
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2030, 7, 2, 14, 0)
    assert event.decoded("DTSTART") == hall_booking.start
    assert event.decoded("DTEND") == hall_booking.end
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_a_rejection_gives_the_reason_and_no_calendar_event(hall_booking, bob):
    decide(hall_booking, "rejected", by=bob, reason="The hall is being painted.")
    booking_mail.notify_decided(hall_booking)

    [message] = rows("booking_rejected")
    assert message.to == ["alice@example.com"]
    assert message.subject == f"Not approved: Great Hall, {WHEN}"
    assert "Reason: The hall is being painted." in message.text
    assert message.attachments == []


def test_cancelling_an_approved_booking_tells_requester_and_approvers_and_cancels_the_event(
    hall_booking, bob
):
    decide(hall_booking, "approved", by=bob)
    booking_mail.notify_decided(hall_booking)
    hall_booking.status = "cancelled"
    hall_booking.save()

    assert booking_mail.notify_cancelled(hall_booking, was_approved=True) == 2

    messages = rows("booking_cancelled")
    assert [m.to for m in messages] == [["alice@example.com"], ["bob@example.com"]]
    assert "Your booking has been cancelled and the slot is free again" in messages[0].text
    assert "The booking by Alice Requester has been cancelled" in messages[1].text
    [approved_event] = ics_of(rows("booking_approved")[0]).walk("VEVENT")
    cancellation = ics_of(messages[0])
    assert cancellation["METHOD"] == "CANCEL"
    [event] = cancellation.walk("VEVENT")
    assert event["UID"] == approved_event["UID"]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] > approved_event["SEQUENCE"]


def test_cancelling_a_pending_request_tells_only_the_requester(hall_booking):
    hall_booking.status = "cancelled"
    hall_booking.save()

    assert booking_mail.notify_cancelled(hall_booking, was_approved=False) == 1

    [message] = rows("booking_cancelled")
    assert message.to == ["alice@example.com"]
    assert message.attachments == []


def test_an_automatic_rejection_gives_the_reason(hall_booking):
    decide(hall_booking, "rejected", reason="Another request for the same time was approved.")
    booking_mail.notify_auto_rejected(hall_booking)

    [message] = rows("booking_auto_rejected")
    assert message.to == ["alice@example.com"]
    assert message.subject == f"Not approved: Great Hall, {WHEN}"
    assert "Reason: Another request for the same time was approved." in message.text


def test_an_expired_request_says_it_expired(hall_booking):
    hall_booking.status = "expired"
    hall_booking.save()
    booking_mail.notify_auto_rejected(hall_booking)

    [message] = rows("booking_auto_rejected")
    assert message.subject.startswith("Expired: Great Hall")
    assert "its start time passed before anyone decided it" in message.text


def test_a_booking_across_midnight_names_both_days(alice):
    room = Resource.objects.create(name="Lab", timezone="America/New_York")
    booking = Booking.objects.create(
        resource=room,
        requester=alice,
        start=datetime(2030, 1, 9, 3, 0, tzinfo=UTC),  # 22:00 on the 8th in New York
        end=datetime(2030, 1, 9, 6, 0, tzinfo=UTC),
        title="Night run",
    )
    assert booking_mail.format_when(booking) == (
        "Tuesday 8 January 2030 22:00 to Wednesday 9 January 2030 01:00 (America/New_York)"
    )


def test_the_approval_mail_arrives_with_an_ics_a_calendar_can_read(
    smtp_settings, hall_booking, bob
):
    decide(hall_booking, "approved", by=bob)
    booking_mail.notify_decided(hall_booking)

    run_worker()

    [received] = smtp_settings.inbox.wait_for("alice@example.com")
    assert received["Subject"] == f"Approved: Great Hall, {WHEN}"
    assert "Choir rehearsal" in received.get_body(preferencelist=("plain",)).get_content()
    assert "Choir rehearsal" in received.get_body(preferencelist=("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "booking.ics"
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == hall_booking.start


def test_a_resource_without_a_known_zone_gets_utc_times_in_the_ics(alice):
    room = Resource.objects.create(name="Room 9", timezone="UTC")
    booking = Booking.objects.create(
        resource=room,
        requester=alice,
        start=datetime(2030, 3, 4, 9, 30, tzinfo=UTC),
        end=datetime(2030, 3, 4, 10, 0, tzinfo=UTC),
        title="",
        status="approved",
    )
    booking_mail.notify_decided(booking)

    calendar = ics_of(rows("booking_approved")[0])
    [event] = calendar.walk("VEVENT")
    assert b"DTSTART:20300304T093000Z" in calendar.to_ical()
    assert event.decoded("DTEND") == booking.end
    assert str(event["SUMMARY"]) == "Room 9"
