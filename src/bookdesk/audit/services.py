"""Writing audit events. Call inside the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from bookdesk.audit.models import AuditEvent
from bookdesk.ops.requestid import current_request_id


def audit_record(
    *,
    action: str,
    actor=None,
    actor_email: str = "",
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    ip: str | None = None,
    request=None,
    **data: Any,
) -> AuditEvent:
    if request is not None:
        from bookdesk.ops.clientip import client_ip

        ip = ip or client_ip(request)
        if (
            actor is None
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            actor = request.user
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
