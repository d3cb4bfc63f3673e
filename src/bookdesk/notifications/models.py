"""Email: the development mailbox (and, from the bookings work, the durable outbox)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DevMessage(models.Model):
    """A message caught by the development mailbox instead of being sent."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    subject = models.CharField(max_length=998)
    from_email = models.CharField(max_length=254)
    to = models.TextField(help_text="Comma-separated recipients")
    body = models.TextField()
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    FAILED = "failed", "failed (gave up)"


class OutboxMessage(models.Model):
    """One email, rendered when it was queued and sent later by `bookdesk worker`.

    Rows are written in the same transaction as the change they announce, so a booking that
    rolls back leaves no mail behind and a committed one always has its mail waiting.
    ``next_attempt_at`` is when a pending row is due, and for a row being sent, when its
    lease runs out: a worker that died mid-send leaves the row to be picked up again then.
    """

    kind = models.CharField(max_length=64, db_index=True)
    to = models.JSONField(default=list, help_text="Recipient addresses")
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    # [{"filename", "mimetype", "content", "encoding": "text"|"base64"}]
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=OutboxStatus.SENT) | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}: {self.subject} ({self.status})"
