"""Changing resources, their opening hours and blackouts (admins only), with an audit row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from bookdesk.accounts.models import User
from bookdesk.accounts.types import AnyUser
from bookdesk.audit.services import audit_record
from bookdesk.core.errors import Forbidden, Invalid
from bookdesk.resources.models import Blackout, OpeningHours, Resource

EDITABLE_FIELDS = {
    "name",
    "kind",
    "location",
    "capacity",
    "timezone",
    "description",
    "is_active",
    "min_duration",
    "max_duration",
    "min_notice",
    "max_advance",
    "requires_approval",
    "pending_holds_slot",
}


def _require_admin(actor: AnyUser | None, fields: Iterable[str] = ()) -> None:
    """Only admins change resources, and only the fields that may be changed."""
    if not (actor and actor.is_authenticated and actor.is_admin):
        raise Forbidden("Only admins manage resources.")
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")


CONTRADICTION = "The values contradict each other."


@contextmanager
def _validated() -> Iterator[None]:
    """Model validation or a check constraint refusing the values: one Invalid naming the
    fields (``detail`` is {field: [messages]}, "__all__" for the whole)."""
    try:
        yield
    except ValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        first = next(iter(detail.values()))[0]
        raise Invalid(first, detail=detail) from None
    except IntegrityError:
        raise Invalid(CONTRADICTION, detail={"__all__": [CONTRADICTION]}) from None


def _jsonable(value: Any) -> Any:
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _set_related(
    resource: Resource,
    *,
    opening_hours: list[dict[str, Any]] | None,
    approver_groups: list[str] | None,
) -> None:
    if opening_hours is not None:
        resource.opening_hours.all().delete()
        rows = [OpeningHours(resource=resource, **row) for row in opening_hours]
        for row in rows:
            row.full_clean(exclude=["resource"])
        OpeningHours.objects.bulk_create(rows)
    if approver_groups is not None:
        groups = [Group.objects.get_or_create(name=name)[0] for name in approver_groups]
        resource.approver_groups.set(groups)


def resource_create(
    *,
    actor: User,
    opening_hours: list[dict[str, Any]] | None = None,
    approver_groups: list[str] | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Resource:
    """Create a resource. ``opening_hours``: [{weekday, opens, closes}]; groups by name."""
    _require_admin(actor, fields)
    with _validated(), transaction.atomic():
        resource = Resource(**fields)
        resource.full_clean()
        resource.save()
        _set_related(resource, opening_hours=opening_hours, approver_groups=approver_groups)
        audit_record(
            action="resource.created",
            actor=actor,
            request=request,
            target=resource,
            **{k: _jsonable(v) for k, v in fields.items()},
        )
    return resource


def resource_update(
    *,
    resource: Resource,
    actor: User,
    opening_hours: list[dict[str, Any]] | None = None,
    approver_groups: list[str] | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Resource:
    """Change the given fields (others stay); the audit row lists what changed from what."""
    _require_admin(actor, fields)
    with _validated(), transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        changes: dict[str, Any] = {}
        for name, value in fields.items():
            old = getattr(resource, name)
            if old != value:
                changes[name] = [_jsonable(old), _jsonable(value)]
                setattr(resource, name, value)
        resource.full_clean()
        resource.save()
        _set_related(resource, opening_hours=opening_hours, approver_groups=approver_groups)
        if opening_hours is not None:
            changes["opening_hours"] = [
                {k: _jsonable(v) for k, v in row.items()} for row in opening_hours
            ]
        if approver_groups is not None:
            changes["approver_groups"] = list(approver_groups)
        audit_record(
            action="resource.updated", actor=actor, request=request, target=resource, **changes
        )
    return resource


def blackout_create(
    *,
    actor: User,
    resource: Resource | None,
    start: datetime,
    end: datetime,
    reason: str,
    request: HttpRequest | None = None,
) -> Blackout:
    """A period nobody may book (one resource, or all when ``resource`` is None).

    Existing bookings in the period stay; admins cancel them if needed.
    """
    _require_admin(actor)
    if end <= start:
        message = "The end must be after the start."
        raise Invalid(message, detail={"end": [message]})
    if not reason.strip():
        message = "Say why (holiday, maintenance, ...)."
        raise Invalid(message, detail={"reason": [message]})
    with _validated(), transaction.atomic():
        blackout = Blackout.objects.create(
            resource=resource, start=start, end=end, reason=reason.strip()
        )
        audit_record(
            action="resource.updated",
            actor=actor,
            request=request,
            target=resource or blackout,
            blackout_added={
                "id": blackout.pk,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "reason": blackout.reason,
                "resource": resource.pk if resource else None,
            },
        )
    return blackout


def blackout_delete(*, actor: User, blackout: Blackout, request: HttpRequest | None = None) -> None:
    _require_admin(actor)
    with transaction.atomic():
        audit_record(
            action="resource.updated",
            actor=actor,
            request=request,
            target=blackout.resource or blackout,
            blackout_removed={
                "id": blackout.pk,
                "start": blackout.start.isoformat(),
                "end": blackout.end.isoformat(),
                "reason": blackout.reason,
            },
        )
        blackout.delete()
