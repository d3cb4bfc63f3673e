"""The outbox in the Django admin: read-only, with a "retry now" action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookdesk.audit.models import AuditEvent
from bookdesk.notifications.models import OutboxMessage, OutboxStatus
from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/outboxmessage/"


def test_an_admin_sees_queued_mail_and_why_it_failed(client, carol, enqueue_note):
    message = enqueue_note()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.FAILED, attempts=12, last_error="SMTPDataError: 554 refused"
    )
    signed_in_client(client, carol)

    listing = client.get(LIST, {"status": "failed"})
    detail = client.get(f"{LIST}{message.pk}/change/")

    assert listing.status_code == 200
    assert b"Note for Alice: the hall" in listing.content
    assert b"SMTPDataError: 554 refused" in detail.content
    assert client.get(f"{LIST}add/").status_code == 403


def test_retry_now_makes_given_up_mail_due_again(client, carol, enqueue_note):
    failed = enqueue_note()
    sent = enqueue_note()
    later = timezone.now() + timedelta(hours=1)
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=OutboxStatus.FAILED, attempts=12, next_attempt_at=later
    )
    OutboxMessage.objects.filter(pk=sent.pk).update(
        status=OutboxStatus.SENT, sent_at=timezone.now()
    )
    signed_in_client(client, carol)

    response = client.post(
        LIST, {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]}, follow=True
    )

    assert response.status_code == 200
    assert b"1 message(s) will be sent" in response.content
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING
    assert failed.attempts == 0
    assert failed.next_attempt_at <= timezone.now()
    assert OutboxMessage.objects.get(pk=sent.pk).status == OutboxStatus.SENT
    assert AuditEvent.objects.filter(action="outbox.retried", actor=carol).exists()


def test_a_requester_cannot_open_the_outbox(client, alice, enqueue_note):
    enqueue_note()
    signed_in_client(client, alice)
    response = client.get(LIST)
    assert response.status_code in (302, 403)
    assert b"Note for Alice" not in response.content


def test_the_admin_does_not_show_a_waiting_reset_link(client, carol, enqueue_note):
    message = enqueue_note(kind="password_reset", topic="https://x.example/reset/secret-token")
    signed_in_client(client, carol)

    detail = client.get(f"{LIST}{message.pk}/change/")

    assert detail.status_code == 200
    assert b"hidden: it holds a secret link" in detail.content
    assert b"About https://x.example/reset/secret-token" not in detail.content
