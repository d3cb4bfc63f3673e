"""Sending the outbox: claim due rows, send them, record the outcome.

Claiming is a short transaction that marks rows 'sending' and pushes ``next_attempt_at``
forward by a lease. On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several workers claim
side by side without waiting on or double-claiming each other's rows; on SQLite the
IMMEDIATE transaction mode takes the write lock at BEGIN, so claims are serial. If a worker
dies after claiming, the row becomes due again when its lease runs out.

Delivery is at least once: a worker killed between the relay accepting a message and the
row being marked sent will send it again after the lease. The stable Message-ID lets mail
systems recognise such a repeat.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import smtplib
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookdesk.core.metrics import EMAILS
from bookdesk.core.requestid import reset_request_id, set_request_id
from bookdesk.notifications.models import OutboxMessage, OutboxStatus

log = structlog.get_logger("bookdesk.worker")

CLAIM_BATCH = 10
# Kinds whose body holds a secret (a password-reset link). Sign-in codes never pass through
# the outbox: they are sent at once, while the user waits.
SECRET_KINDS = frozenset({"password_reset"})
# Errors that say the relay cannot take any mail from us now (unreachable, gone away, our
# login or sender refused): the rest of a batch would fail the same way.
RELAY_UNUSABLE = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
)


def relay_unusable(exc: BaseException) -> bool:
    if isinstance(exc, RELAY_UNUSABLE):
        return True
    # Socket errors (refused, timed out, TLS failed); SMTPException is an OSError too, but a
    # reply about one message (say, 554 to its DATA) says nothing about the next.
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_seconds() -> float:
    # Long enough for a whole batch on a slow relay (each SMTP step may take EMAIL_TIMEOUT).
    return max(120.0, CLAIM_BATCH * 3 * float(settings.EMAIL_TIMEOUT or 10))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: ~30 s, 60 s, 120 s … capped at an hour."""
    base = float(settings.OUTBOX_RETRY_BASE_SECONDS)
    cap = float(settings.OUTBOX_RETRY_MAX_SECONDS)
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    # Jitter spreads a backlog out so a relay that comes back is not hit all at once.
    return timedelta(seconds=delay * random.uniform(0.75, 1.0))


def claim_due(*, worker: str, limit: int = CLAIM_BATCH) -> list[OutboxMessage]:
    now = timezone.now()
    due = OutboxMessage.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING], next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    # A plain read first: an idle poll must not take SQLite's write lock every second.
    if not due.exists():
        return []
    with transaction.atomic():
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds()),
        )
    return list(OutboxMessage.objects.filter(pk__in=ids).order_by("next_attempt_at", "id"))


def _message_id(message: OutboxMessage) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "bookdesk.invalid"
    return f"<outbox-{message.pk}.{int(message.created_at.timestamp())}@{host}>"


def build_email(message: OutboxMessage, connection=None) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        connection=connection,
        headers={"Message-ID": _message_id(message)},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for item in message.attachments:
        content = item["content"]
        if item.get("encoding") == "base64":
            content = base64.b64decode(content)
        email.attach(item["filename"], content, item.get("mimetype") or None)
    return email


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    # The relay's reply is useful; the relay's password must never be stored or logged.
    password = settings.EMAIL_HOST_PASSWORD
    if password:
        text = text.replace(password, "[redacted]")
    return text[:1000]


def _is_permanent(exc: BaseException) -> bool:
    # Every recipient refused with a 5xx code: retrying cannot help (bad address).
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


def _forget_secrets(message: OutboxMessage) -> dict:
    # A sign-in or reset link is a key to an account: once the mail has gone (or never
    # will), the copy in the database is only a risk in backups and the admin.
    if message.kind in SECRET_KINDS:
        return {"text": "[removed after sending: it held a secret link]", "html": ""}
    return {}


def mark_sent(message: OutboxMessage, *, worker: str) -> None:
    updated = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claimed_by=worker
    ).update(
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
        claimed_by="",
        **_forget_secrets(message),
    )
    EMAILS.labels(kind=message.kind, result="sent").inc()
    if updated:
        log.info("email sent", kind=message.kind, attempts=message.attempts)
    else:
        # Our lease ran out and another worker took the row: it may send it again.
        log.warning("email sent after its lease expired", kind=message.kind)


def mark_failed(message: OutboxMessage, exc: BaseException, *, worker: str) -> None:
    error = _describe(exc)
    rows = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claimed_by=worker
    )
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS or _is_permanent(exc):
        rows.update(
            status=OutboxStatus.FAILED, last_error=error, claimed_by="", **_forget_secrets(message)
        )
        EMAILS.labels(kind=message.kind, result="failed").inc()
        log.error(
            "email delivery failed for good",
            kind=message.kind,
            attempts=message.attempts,
            error=error,
        )
        return
    delay = retry_delay(message.attempts)
    rows.update(
        status=OutboxStatus.PENDING,
        last_error=error,
        claimed_by="",
        next_attempt_at=timezone.now() + delay,
    )
    EMAILS.labels(kind=message.kind, result="retry").inc()
    log.warning(
        "email delivery failed, will retry",
        kind=message.kind,
        attempts=message.attempts,
        retry_in_seconds=round(delay.total_seconds()),
        error=error,
    )


def release(messages: list[OutboxMessage], *, worker: str) -> None:
    """Hand back claimed rows that were not tried (relay down, or shutting down)."""
    if not messages:
        return
    OutboxMessage.objects.filter(
        pk__in=[m.pk for m in messages], status=OutboxStatus.SENDING, claimed_by=worker
    ).update(
        status=OutboxStatus.PENDING,
        claimed_by="",
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + retry_delay(1),
    )


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    released: int = 0


def send_batch(
    messages: list[OutboxMessage], *, worker: str, should_stop=lambda: False
) -> BatchResult:
    """Send claimed messages over one SMTP connection."""
    result = BatchResult()
    connection = None
    try:
        for index, message in enumerate(messages):
            if should_stop():
                rest = messages[index:]
                release(rest, worker=worker)
                result.released += len(rest)
                break
            token = set_request_id(message.request_id or None)
            try:
                context: dict[str, int | str] = {"outbox_id": message.pk}
                if message.request_id:
                    context["request_id"] = message.request_id
                with structlog.contextvars.bound_contextvars(**context):
                    try:
                        if connection is None:
                            connection = get_connection(fail_silently=False)
                            # Opened here so one connection carries the whole batch.
                            connection.open()
                        if build_email(message, connection).send(fail_silently=False) != 1:
                            raise smtplib.SMTPException("the mail backend sent nothing")
                    except Exception as exc:
                        mark_failed(message, exc, worker=worker)
                        result.failed += 1
                        _close_quietly(connection)
                        connection = None
                        if relay_unusable(exc):
                            rest = messages[index + 1 :]
                            release(rest, worker=worker)
                            result.released += len(rest)
                            break
                        continue
                    mark_sent(message, worker=worker)
                    result.sent += 1
            finally:
                reset_request_id(token)
    finally:
        if connection is not None:
            _close_quietly(connection)
    return result


def _close_quietly(connection) -> None:
    # A broken connection is being thrown away anyway.
    with contextlib.suppress(Exception):
        connection.close()
