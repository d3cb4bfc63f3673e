"""The booking-and-approval story through the pages, signing in for real.

Rita signs in with her password and the code mailed to her (a real SMTP server receives
it), books the hall that needs approval, and Bob approves it from his inbox.
"""

from __future__ import annotations

import re

from django.test import Client

from bookdesk.bookings.models import Booking, BookingStatus
from tests.bookings.conftest import at
from tests.conftest import PASSWORD


def sign_in(client: Client, user, inbox) -> None:
    before = len(inbox.to(user.email))
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    mail = inbox.wait_for(user.email, count=before + 1)[-1]
    code = re.search(r"\b(\d{6})\b", mail.get_body(("plain",)).get_content()).group(1)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302


def test_a_request_is_booked_and_approved_from_the_inbox(alice, bob, hall, smtp_settings):
    requester, approver = Client(), Client()
    sign_in(requester, alice, smtp_settings.inbox)
    start = at(4, 10, zone=hall.zone)
    response = requester.post(
        "/book/",
        {
            "resource": hall.pk,
            "start": f"{start:%Y-%m-%dT%H:%M}",
            "end": f"{start:%Y-%m-%d}T12:00",
            "title": "Spring concert",
            "attendees": 120,
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get(title="Spring concert")
    assert booking.status == BookingStatus.PENDING

    sign_in(approver, bob, smtp_settings.inbox)
    inbox = approver.get("/approvals/")
    assert [b.pk for b in inbox.context["pending"]] == [booking.pk]
    response = approver.post("/approvals/", {"booking": [booking.pk], "decision": "approve"})
    assert response.status_code == 302
    assert "1 request approved." in approver.get(response["Location"]).content.decode()

    detail = requester.get(f"/bookings/{booking.pk}/")
    assert detail.context["booking"].status == BookingStatus.APPROVED
    assert [e.action for e in detail.context["history"]] == [
        "booking.requested",
        "booking.approved",
    ]
    assert "10:00\u201312:00 (Europe/Berlin)" in detail.content.decode()
