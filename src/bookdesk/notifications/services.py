"""Queueing email: render now, store in the outbox, let `bookdesk worker` send it.

Nothing here talks to the SMTP relay. A web request that queues mail only writes a row in
its own transaction, so a slow or broken relay never slows or fails the request, and mail
for a change that rolls back is never sent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.template import Context, Template
from django.template.backends.django import Template as BackendTemplate
from django.template.loader import get_template
from django.utils import timezone

from bookdesk.audit.services import audit_record
from bookdesk.core.requestid import current_request_id
from bookdesk.notifications.models import OutboxMessage, OutboxStatus

Attachment = Mapping[str, Any] | tuple


def _engine_template(name: str) -> Template:
    """The Django engine's own template, which renders a Context as given."""
    return cast(BackendTemplate, get_template(name)).template


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Render ``emails/<template>-subject.txt``, ``-body.txt`` and ``-body.html``."""
    # Plain-text parts are not HTML: escaping would turn "R&D" into "R&amp;D" in the mail.
    plain = Context(dict(context), autoescape=False)
    subject: str = _engine_template(f"emails/{template}-subject.txt").render(plain)
    text: str = _engine_template(f"emails/{template}-body.txt").render(plain)
    html = get_template(f"emails/{template}-body.html").render(dict(context))
    # A header cannot hold a line break, and template whitespace must not leak into it.
    subject = re.sub(r"\s+", " ", subject).strip()
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return subject, text, html


def _stored_attachment(attachment: Attachment) -> dict[str, str]:
    if isinstance(attachment, tuple):
        filename, content, mimetype = attachment
    else:
        filename = attachment["filename"]
        content = attachment["content"]
        mimetype = attachment.get("mimetype") or "application/octet-stream"
    if isinstance(content, bytes):
        return {
            "filename": filename,
            "mimetype": mimetype,
            "encoding": "base64",
            "content": base64.b64encode(content).decode("ascii"),
        }
    return {"filename": filename, "mimetype": mimetype, "encoding": "text", "content": content}


def enqueue_email(
    *,
    kind: str,
    to: str | Iterable[str],
    template: str,
    context: Mapping[str, Any],
    attachments: Iterable[Attachment] = (),
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Queue one message; returns the outbox row (the existing one if ``dedupe_key`` was seen).

    Call inside the transaction of the change the message announces.
    """
    recipients = [to] if isinstance(to, str) else [address for address in to if address]
    if not recipients:
        raise ValueError("an email needs at least one recipient")
    subject, text, html = render_email(template, context)
    message = OutboxMessage(
        kind=kind,
        to=recipients,
        subject=subject,
        text=text,
        html=html,
        attachments=[_stored_attachment(a) for a in attachments],
        request_id=(current_request_id() or "")[:64],
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        message.save()
        return message
    # INSERT ... ON CONFLICT DO NOTHING: a repeat (even a concurrent one) adds nothing and
    # never aborts the caller's transaction, in one round trip instead of a savepoint's three.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
    return OutboxMessage.objects.get(dedupe_key=dedupe_key)


def outbox_purge_sent() -> int:
    """Delete sent messages older than OUTBOX_RETENTION_DAYS (failed ones stay for review)."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(status=OutboxStatus.SENT, sent_at__lt=cutoff).delete()
    return deleted


def outbox_retry_now(
    *,
    messages: Iterable[OutboxMessage],
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Make pending or given-up messages due now (the admin's "retry now"), audited."""
    with transaction.atomic():
        count = (
            OutboxMessage.objects.filter(pk__in=[m.pk for m in messages])
            .filter(status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED])
            .update(status=OutboxStatus.PENDING, next_attempt_at=timezone.now(), attempts=0)
        )
        audit_record(action="outbox.retried", actor=actor, request=request, count=count)
    return count
