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
