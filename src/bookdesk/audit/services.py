"""Writing audit events. Call inside the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from bookdesk.audit.models import AuditEvent
from bookdesk.core.clientip import client_ip
from bookdesk.core.requestid import current_request_id


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_email: str = "",
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    ip: str | None = None,
    request: HttpRequest | None = None,
    **data: Any,
) -> AuditEvent:
    # The actor is always the caller's word: None means no person acted (an automatic
    # approval, a periodic task), even inside a request that has a signed-in user.
    if request is not None:
        ip = ip or client_ip(request)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    if actor is not None and not actor_email:
        actor_email = actor.email
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=actor_email,
        target_type=target_type,
        target_id=str(target_id or ""),
        ip=ip,
        request_id=current_request_id() or "",
        data=data,
    )
