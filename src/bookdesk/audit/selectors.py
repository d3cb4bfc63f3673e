"""Reads of the audit log (admins see it all; pages show one object's history)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from bookdesk.audit.models import AuditEvent


def history_of(target: Model) -> QuerySet[AuditEvent]:
    """The events recorded about ``target``, oldest first."""
    return AuditEvent.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).order_by("at", "id")


def audit_events(*, filters: Any = None) -> QuerySet[AuditEvent]:
    """The whole log, newest first, narrowed by the audit page's filter form if given."""
    events = AuditEvent.objects.all()
    return filters.filter(events) if filters is not None else events
