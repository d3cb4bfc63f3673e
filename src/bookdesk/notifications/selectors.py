"""Reads of the outbox, for readiness, metrics and the admin."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Count, Min
from django.utils import timezone

from bookdesk.notifications.models import OutboxMessage, OutboxStatus

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class OutboxStats(NamedTuple):
    pending: int  # messages neither sent nor given up
    oldest_age_seconds: float  # age of the oldest of them; 0 when none wait


def outbox_stats() -> OutboxStats:
    """How much mail waits, and how long the oldest has waited (a tuple, or by name)."""
    row = OutboxMessage.objects.filter(status__in=WAITING).aggregate(
        pending=Count("id"), oldest=Min("created_at")
    )
    oldest = row["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxStats(row["pending"], max(0.0, age))
