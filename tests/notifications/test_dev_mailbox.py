"""The development mailbox: mail the worker sends under `make run` can be read, .ics and all."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from bookdesk.bookings import mail as booking_mail
from bookdesk.notifications.models import DevMessage
from tests.accounts.helpers import signed_in_client
from tests.notifications.helpers import run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_mailbox(settings):
    settings.ENVIRONMENT = "development"
    settings.EMAIL_BACKEND = "bookdesk.notifications.devmailbox.DevMailboxBackend"


@pytest.fixture
def approval_mail(dev_mailbox, hall_booking, bob):
    hall_booking.status = "approved"
    hall_booking.decided_by = bob
    hall_booking.save()
    booking_mail.notify_decided(hall_booking)
    run_worker()
    return DevMessage.objects.get(to="alice@example.com")


def test_the_approval_mail_offers_its_ics_for_download(client, alice, approval_mail):
    signed_in_client(client, alice)

    page = client.get(f"/dev/mailbox/{approval_mail.pk}/")
    download = client.get(f"/dev/mailbox/{approval_mail.pk}/attachments/0")

    assert page.status_code == 200
    assert f'href="/dev/mailbox/{approval_mail.pk}/attachments/0"'.encode() in page.content
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/calendar")
    assert download["Content-Disposition"] == 'attachment; filename="booking.ics"'
    [event] = Calendar.from_ical(download.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Choir rehearsal (Great Hall)"


def test_the_html_part_is_shown_sandboxed(client, alice, approval_mail):
    signed_in_client(client, alice)

    page = client.get(f"/dev/mailbox/{approval_mail.pk}/")
    html = client.get(f"/dev/mailbox/{approval_mail.pk}/html")

    assert b"<iframe" in page.content
    assert b"Your booking is confirmed" in html.content
    assert html["Content-Security-Policy"].startswith("sandbox")


def test_a_missing_attachment_is_not_found(client, alice, approval_mail):
    signed_in_client(client, alice)
    assert client.get(f"/dev/mailbox/{approval_mail.pk}/attachments/5").status_code == 404


def test_the_mailbox_pages_do_not_exist_outside_development(client, settings, alice, approval_mail):
    settings.ENVIRONMENT = "production"
    signed_in_client(client, alice)
    for path in ("", "html", "attachments/0"):
        assert client.get(f"/dev/mailbox/{approval_mail.pk}/{path}").status_code == 404
