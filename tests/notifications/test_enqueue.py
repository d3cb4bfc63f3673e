"""enqueue_email: rendered at once, stored in the caller's transaction, never sent there."""

from __future__ import annotations

import base64

import pytest
from django.core import mail
from django.db import transaction

from bookdesk.core.requestid import reset_request_id, set_request_id
from bookdesk.notifications.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db


def test_it_renders_subject_text_and_html_when_queued(enqueue_note):
    message = enqueue_note(topic="R&D <lab>")

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.to == ["alice@example.com"]
    # One line, template whitespace folded.
    assert message.subject == "Note for Alice: R&D <lab>"
    # The text part is not HTML, so nothing is escaped in it; blank runs are folded.
    assert message.text == "Hello Alice,\n\nAbout R&D <lab>.\n"
    assert "R&amp;D &lt;lab&gt;" in message.html
    assert message.attempts == 0
    assert message.sent_at is None


def test_it_does_not_send_anything_itself(enqueue_note):
    enqueue_note()
    assert mail.outbox == []


def test_it_keeps_the_request_id_of_the_request_that_queued_it(enqueue_note):
    token = set_request_id("req-1234567890")
    try:
        message = enqueue_note()
    finally:
        reset_request_id(token)
    assert OutboxMessage.objects.get(pk=message.pk).request_id == "req-1234567890"


def test_a_rolled_back_change_leaves_no_mail(enqueue_note):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_note()
        raise RuntimeError("the booking failed")
    assert not OutboxMessage.objects.exists()


def test_a_dedupe_key_queues_the_message_only_once(enqueue_note):
    first = enqueue_note(dedupe_key="booking:1:approved")
    second = enqueue_note(dedupe_key="booking:1:approved", topic="something else")

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert "the hall" in OutboxMessage.objects.get().subject


def test_messages_without_a_dedupe_key_are_all_kept(enqueue_note):
    enqueue_note()
    enqueue_note()
    assert OutboxMessage.objects.count() == 2


def test_it_stores_binary_attachments_as_base64_and_text_as_text(enqueue_note):
    message = enqueue_note(
        attachments=[
            {"filename": "a.bin", "mimetype": "application/octet-stream", "content": b"\x00\xff"},
            ("b.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),
        ]
    )
    stored = OutboxMessage.objects.get(pk=message.pk).attachments
    assert stored[0] == {
        "filename": "a.bin",
        "mimetype": "application/octet-stream",
        "encoding": "base64",
        "content": base64.b64encode(b"\x00\xff").decode(),
    }
    assert stored[1]["encoding"] == "text"
    assert stored[1]["content"].startswith("BEGIN:VCALENDAR")


def test_it_refuses_a_message_without_recipients(enqueue_note):
    with pytest.raises(ValueError, match="recipient"):
        enqueue_note(to=[])
