"""The booking services queue their mail, and the worker delivers it: the story end to end."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar

from bookdesk.bookings import services
from bookdesk.notifications.models import OutboxMessage
from tests.conftest import free_port
from tests.notifications.helpers import run_worker

pytestmark = pytest.mark.django_db


def in_ten_days(hour: int) -> datetime:
    berlin = ZoneInfo("Europe/Berlin")
    day = timezone.now().astimezone(berlin).date() + timedelta(days=10)
    return datetime.combine(day, time(hour), tzinfo=berlin)


def test_request_approve_and_the_requester_gets_the_ics(smtp_settings, hall, alice, bob):
    booking = services.booking_request(
        requester=alice,
        resource=hall,
        start=in_ten_days(14),
        end=in_ten_days(16),
        title="Choir rehearsal",
        purpose="",
        attendees=40,
    )
    run_worker()
    [to_bob] = smtp_settings.inbox.wait_for("bob@example.com")
    assert to_bob["Subject"].startswith("New request for Great Hall:")
    assert "14:00 to 16:00 (Europe/Berlin)" in to_bob["Subject"]

    services.booking_approve(booking=booking, actor=bob)
    run_worker()
    [to_alice] = smtp_settings.inbox.wait_for("alice@example.com")
    assert to_alice["Subject"].startswith("Approved: Great Hall")
    [ics] = list(to_alice.iter_attachments())
    [event] = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("DTSTART") == in_ten_days(14)


def test_a_booking_succeeds_with_the_relay_down_and_its_mail_waits(
    settings, smtp_settings, hall, alice
):
    settings.EMAIL_PORT = free_port()  # nobody listens there
    with transaction.atomic():
        booking = services.booking_request(
            requester=alice,
            resource=hall,
            start=in_ten_days(9),
            end=in_ten_days(10),
            title="Board meeting",
            purpose="",
            attendees=5,
        )
    run_worker()

    assert booking.pk is not None
    [waiting] = OutboxMessage.objects.filter(kind="booking_requested")
    assert waiting.status == "pending"
    assert waiting.attempts == 1
    assert smtp_settings.inbox.messages == []


def test_the_web_request_id_follows_the_mail_into_the_worker_log(
    client, smtp_settings, hall, alice, caplog
):
    from tests.accounts.helpers import api_signed_in

    api_signed_in(client, alice)
    response = client.post(
        "/api/v1/bookings",
        {
            "resource": hall.pk,
            "start": in_ten_days(11).isoformat(),
            "end": in_ten_days(12).isoformat(),
            "title": "Rehearsal",
            "purpose": "",
            "attendees": 10,
        },
        content_type="application/json",
        headers={"X-Request-ID": "req-from-nginx-0042"},
    )
    assert response.status_code == 201, response.content
    assert OutboxMessage.objects.get(kind="booking_requested").request_id == "req-from-nginx-0042"

    with caplog.at_level(logging.INFO, logger="bookdesk.worker"):
        run_worker()

    sent = [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "email sent"
    ]
    assert [e["request_id"] for e in sent] == ["req-from-nginx-0042"]
    assert smtp_settings.inbox.wait_for("bob@example.com")
