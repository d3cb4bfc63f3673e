"""`bookdesk worker --once` against a real SMTP server: delivery, retries, giving up."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from bookdesk.notifications.models import DevMessage, OutboxMessage, OutboxStatus
from bookdesk.notifications.outbox import retry_delay
from bookdesk.notifications.selectors import outbox_stats
from bookdesk.notifications.services import outbox_purge_sent
from bookdesk.notifications.worker import run_periodic_tasks
from tests.conftest import free_port
from tests.notifications.helpers import make_due, run_worker

pytestmark = pytest.mark.django_db


def emails_counter(kind: str, result: str) -> float:
    return REGISTRY.get_sample_value("bookdesk_emails_total", {"kind": kind, "result": result}) or 0


def worker_events(caplog, level=logging.DEBUG) -> list[dict]:
    return [
        r.msg
        for r in caplog.records
        if r.name == "bookdesk.worker" and r.levelno >= level and isinstance(r.msg, dict)
    ]


@pytest.fixture
def relay_down(settings, smtp_settings):
    """Point mail at a port nobody listens on; returns a function that brings the relay back."""
    settings.EMAIL_PORT = free_port()

    def back():
        settings.EMAIL_PORT = smtp_settings.port

    return back


def test_it_sends_a_queued_message_with_text_html_and_attachment(smtp_settings, enqueue_note):
    message = enqueue_note(attachments=[("hello.txt", "hi there", "text/plain")], kind="test_sends")
    before = emails_counter("test_sends", "sent")

    assert "sent 1" in run_worker()

    [received] = smtp_settings.inbox.wait_for("alice@example.com")
    assert received["Subject"] == "Note for Alice: the hall"
    assert received.get_body(preferencelist=("plain",)).get_content().startswith("Hello Alice")
    assert "<p>Hello Alice" in received.get_body(preferencelist=("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "hello.txt"
    assert attachment.get_content() == "hi there"
    assert received["Message-ID"].startswith(f"<outbox-{message.pk}.")
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert emails_counter("test_sends", "sent") == before + 1


def test_a_sent_message_is_not_sent_again(smtp_settings, enqueue_note):
    enqueue_note()
    run_worker()
    run_worker()
    assert len(smtp_settings.inbox.messages) == 1


def test_with_the_relay_down_the_message_waits_and_goes_out_once_it_is_back(
    relay_down, smtp_settings, enqueue_note
):
    message = enqueue_note(kind="test_relay")
    retries_before = emails_counter("test_relay", "retry")

    run_worker()

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at > timezone.now()
    assert "ConnectionRefusedError" in message.last_error
    assert emails_counter("test_relay", "retry") == retries_before + 1
    assert smtp_settings.inbox.messages == []

    # Not due yet: a second run leaves it alone even though the relay is back.
    relay_down()
    run_worker()
    assert smtp_settings.inbox.messages == []

    make_due(message)
    run_worker()
    run_worker()
    assert len(smtp_settings.inbox.wait_for("alice@example.com")) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2
    assert message.last_error == ""


def test_a_relay_that_refuses_the_message_gets_it_again_later(smtp_settings, enqueue_note):
    smtp_settings.inbox.refuse = True
    message = enqueue_note()

    run_worker()
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert "554" in message.last_error

    smtp_settings.inbox.refuse = False
    make_due(message)
    run_worker()
    assert len(smtp_settings.inbox.messages) == 1


def test_when_the_relay_is_down_the_rest_of_the_batch_is_not_tried(relay_down, enqueue_note):
    first, second, third = enqueue_note(), enqueue_note(), enqueue_note()

    run_worker()

    rows = {m.pk: m for m in OutboxMessage.objects.all()}
    assert rows[first.pk].attempts == 1
    # Put back untried: no attempt counted, due again a little later.
    for other in (second, third):
        assert rows[other.pk].status == OutboxStatus.PENDING
        assert rows[other.pk].attempts == 0
        assert rows[other.pk].next_attempt_at > timezone.now()


def test_it_gives_up_after_the_last_attempt_and_logs_an_error(
    settings, relay_down, enqueue_note, caplog
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = enqueue_note(kind="test_give_up")
    failed_before = emails_counter("test_give_up", "failed")

    run_worker()
    make_due(message)
    with caplog.at_level(logging.WARNING, logger="bookdesk.worker"):
        run_worker()

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == 2
    assert emails_counter("test_give_up", "failed") == failed_before + 1
    [error] = worker_events(caplog, logging.ERROR)
    assert error["event"] == "email delivery failed for good"
    assert error["outbox_id"] == message.pk

    # Given up means given up: later runs do not send it.
    relay_down()
    make_due(message)
    run_worker()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED


def test_the_relay_password_never_reaches_the_stored_error(settings, relay_down, enqueue_note):
    settings.EMAIL_HOST_USER = "bookdesk"
    settings.EMAIL_HOST_PASSWORD = "s3cret-relay-key"
    message = enqueue_note()
    run_worker()
    message.refresh_from_db()
    assert message.last_error
    assert "s3cret-relay-key" not in message.last_error


def test_a_message_of_a_worker_that_died_is_sent_after_its_lease(smtp_settings, enqueue_note):
    stuck = enqueue_note(topic="stuck")
    busy = enqueue_note(topic="busy")
    now = timezone.now()
    # One claimed by a dead worker whose lease ran out, one by a live worker.
    OutboxMessage.objects.filter(pk=stuck.pk).update(
        status=OutboxStatus.SENDING, claimed_by="gone:1", attempts=1, next_attempt_at=now
    )
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status=OutboxStatus.SENDING,
        claimed_by="alive:2",
        attempts=1,
        next_attempt_at=now + timedelta(minutes=5),
    )

    run_worker()

    [received] = smtp_settings.inbox.messages
    assert received["Subject"] == "Note for Alice: stuck"
    assert OutboxMessage.objects.get(pk=busy.pk).status == OutboxStatus.SENDING


def test_the_request_id_is_bound_to_the_log_lines_of_its_message(
    smtp_settings, enqueue_note, caplog
):
    from bookdesk.core.requestid import reset_request_id, set_request_id

    token = set_request_id("req-from-the-web-1")
    try:
        enqueue_note()
    finally:
        reset_request_id(token)

    with caplog.at_level(logging.INFO, logger="bookdesk.worker"):
        run_worker()

    [sent] = [e for e in worker_events(caplog) if e["event"] == "email sent"]
    assert sent["request_id"] == "req-from-the-web-1"


def test_the_dev_mailbox_still_catches_worker_mail(settings, enqueue_note):
    settings.EMAIL_BACKEND = "bookdesk.notifications.devmailbox.DevMailboxBackend"
    enqueue_note(attachments=[("b.ics", "BEGIN:VCALENDAR", "text/calendar")])

    run_worker()

    caught = DevMessage.objects.get()
    assert caught.subject == "Note for Alice: the hall"
    assert "<p>Hello Alice" in caught.html
    [attachment] = caught.attachments
    assert (attachment["filename"], attachment["mimetype"]) == ("b.ics", "text/calendar")
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_outbox_stats_count_what_waits_and_how_long(enqueue_note):
    assert outbox_stats() == (0, 0.0)
    waiting = enqueue_note()
    enqueue_note()
    sent = enqueue_note()
    OutboxMessage.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    OutboxMessage.objects.filter(pk=sent.pk).update(
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        created_at=timezone.now() - timedelta(hours=5),
    )

    pending, age = outbox_stats()
    assert pending == 2
    assert 600 <= age < 3600


def test_the_worker_sets_the_outbox_gauges(relay_down, enqueue_note, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    enqueue_note()
    enqueue_note()
    run_worker()
    assert REGISTRY.get_sample_value("bookdesk_outbox_pending") == 2
    assert REGISTRY.get_sample_value("bookdesk_outbox_oldest_age_seconds") >= 0


def test_retry_delays_grow_and_stop_at_the_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    first = retry_delay(1).total_seconds()
    fourth = retry_delay(4).total_seconds()
    late = retry_delay(20).total_seconds()
    assert 22.5 <= first <= 30
    assert 180 <= fourth <= 240
    assert 2700 <= late <= 3600


def test_old_sent_messages_are_purged_and_failed_ones_kept(settings, enqueue_note):
    settings.OUTBOX_RETENTION_DAYS = 30
    old_sent, new_sent, old_failed = enqueue_note(), enqueue_note(), enqueue_note()
    long_ago = timezone.now() - timedelta(days=31)
    OutboxMessage.objects.filter(pk=old_sent.pk).update(status="sent", sent_at=long_ago)
    OutboxMessage.objects.filter(pk=new_sent.pk).update(status="sent", sent_at=timezone.now())
    OutboxMessage.objects.filter(pk=old_failed.pk).update(status="failed", created_at=long_ago)

    assert outbox_purge_sent() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {new_sent.pk, old_failed.pk}


calls: list[str] = []


def record_call():
    calls.append("ran")
    return 3


def broken_task():
    raise LookupError("the task's own bug")


def test_a_failing_periodic_task_does_not_stop_the_others(caplog):
    calls.clear()
    with caplog.at_level(logging.ERROR, logger="bookdesk.worker"):
        results = run_periodic_tasks({"broken": broken_task, "record": record_call})
    assert calls == ["ran"]
    assert results["record"] == 3
    assert isinstance(results["broken"], LookupError)
    [failure] = worker_events(caplog, logging.ERROR)
    assert failure["task"] == "broken"
    assert failure["request_id"].startswith("task-")


def test_a_sent_password_reset_keeps_no_copy_of_its_link(smtp_settings, enqueue_note):
    message = enqueue_note(kind="password_reset", topic="https://x.example/reset/abc/token")

    run_worker()

    [received] = smtp_settings.inbox.messages
    assert "token" in received.get_body(preferencelist=("plain",)).get_content()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert "token" not in message.text
    assert message.html == ""


def test_the_loop_survives_a_database_error_and_counts_it(caplog):
    from django.db import OperationalError

    from bookdesk.notifications.outbox import BatchResult
    from bookdesk.notifications.worker import Worker

    worker = Worker(poll_seconds=0.01, periodic=False)
    worker.error_backoff_seconds = 0
    drains = []

    def drain():
        drains.append(1)
        if len(drains) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        worker.stop()
        return BatchResult()

    worker.drain = drain
    errors_before = REGISTRY.get_sample_value("bookdesk_db_errors_total") or 0
    with caplog.at_level(logging.ERROR, logger="bookdesk.worker"):
        worker.run_forever()

    assert len(drains) == 2
    assert REGISTRY.get_sample_value("bookdesk_db_errors_total") == errors_before + 1
    [failure] = worker_events(caplog, logging.ERROR)
    assert failure["event"] == "worker loop failed; retrying"


def test_each_app_registers_its_periodic_tasks():
    from bookdesk.core import periodic

    assert list(periodic.registered()) == [
        "bookdesk.accounts.services.accounts_prune",
        "bookdesk.notifications.services.outbox_purge_sent",
        "bookdesk.bookings.services.bookings_expire_stale",
        "bookdesk.exports.jobs.export_jobs_periodic",
    ]
    assert all(callable(task) for task in periodic.registered().values())


def test_a_refusal_of_one_message_does_not_hold_back_the_others(smtp_settings, enqueue_note):
    smtp_settings.inbox.refuse = True  # 554 to every DATA: a verdict on each message
    messages = [enqueue_note(), enqueue_note(), enqueue_note()]

    run_worker()

    for message in messages:
        message.refresh_from_db()
        assert message.attempts == 1
        assert "554" in message.last_error


def test_an_address_the_relay_says_does_not_exist_is_given_up_at_once(settings, enqueue_note):
    from aiosmtpd.controller import Controller

    class NoSuchUser:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user"

    port = free_port()
    relay = Controller(NoSuchUser(), hostname="127.0.0.1", port=port)
    relay.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        message = enqueue_note(to="nobody@example.com")
        run_worker()
    finally:
        relay.stop()

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == 1
    assert "550" in message.last_error
