"""/api/v1/resources, /api/v1/blackouts and /api/v1/availability."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime

from bookdesk.api.errors import ApiError
from bookdesk.resources import services
from bookdesk.resources.models import Blackout, Resource, ResourceKind
from bookdesk.resources.selectors import availability, availability_busy_json, resources_for

router = Router(tags=["resources"])

MAX_AVAILABILITY_WINDOW = timedelta(days=31)


class OpeningHoursSchema(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    opens: time
    closes: time


class ResourceOut(Schema):
    id: int
    name: str
    kind: str
    location: str
    capacity: int
    timezone: str
    description: str
    is_active: bool
    requires_approval: bool
    pending_holds_slot: bool
    min_duration_minutes: int
    max_duration_minutes: int
    min_notice_minutes: int
    max_advance_days: int
    approver_groups: list[str]
    opening_hours: list[OpeningHoursSchema]

    @staticmethod
    def from_resource(r: Resource) -> dict:
        return {
            "id": r.pk,
            "name": r.name,
            "kind": r.kind,
            "location": r.location,
            "capacity": r.capacity,
            "timezone": r.timezone,
            "description": r.description,
            "is_active": r.is_active,
            "requires_approval": r.requires_approval,
            "pending_holds_slot": r.pending_holds_slot,
            "min_duration_minutes": int(r.min_duration.total_seconds() // 60),
            "max_duration_minutes": int(r.max_duration.total_seconds() // 60),
            "min_notice_minutes": int(r.min_notice.total_seconds() // 60),
            "max_advance_days": r.max_advance.days,
            "approver_groups": [g.name for g in r.approver_groups.all()],
            "opening_hours": [
                {"weekday": h.weekday, "opens": h.opens, "closes": h.closes}
                for h in r.opening_hours.all()
            ],
        }


class ResourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: ResourceKind | None = None
    location: str | None = Field(None, max_length=200)
    capacity: int | None = Field(None, ge=1)
    timezone: str | None = None
    description: str | None = None
    is_active: bool | None = None
    requires_approval: bool | None = None
    pending_holds_slot: bool | None = None
    min_duration_minutes: int | None = Field(None, ge=1)
    max_duration_minutes: int | None = Field(None, ge=1)
    min_notice_minutes: int | None = Field(None, ge=0)
    max_advance_days: int | None = Field(None, ge=0)
    approver_groups: list[str] | None = None
    opening_hours: list[OpeningHoursSchema] | None = None


class ResourceIn(ResourcePatch):
    name: str = Field(..., min_length=1, max_length=200)
    timezone: str = "UTC"


def _model_fields(payload: ResourcePatch) -> tuple[dict, dict]:
    data = payload.dict(exclude_unset=True)
    related = {
        "opening_hours": data.pop("opening_hours", None),
        "approver_groups": data.pop("approver_groups", None),
    }
    for key, unit, name in (
        ("min_duration_minutes", "minutes", "min_duration"),
        ("max_duration_minutes", "minutes", "max_duration"),
        ("min_notice_minutes", "minutes", "min_notice"),
        ("max_advance_days", "days", "max_advance"),
    ):
        if key in data:
            value = data.pop(key)
            if value is not None:
                data[name] = timedelta(**{unit: value})
    fields = {k: v for k, v in data.items() if v is not None}
    return fields, related


def _invalid(exc: DjangoValidationError) -> ApiError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return ApiError(422, "invalid", detail)


def _resources_qs():
    return Resource.objects.prefetch_related("approver_groups", "opening_hours")


@router.get("/resources", response=list[ResourceOut], summary="List resources")
def list_resources(
    request,
    kind: ResourceKind | None = None,
    capacity: Annotated[int | None, Query(ge=1)] = None,
    include_inactive: bool = False,
):
    qs = resources_for(request.user, include_inactive=include_inactive).prefetch_related(
        "approver_groups", "opening_hours"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if capacity:
        qs = qs.filter(capacity__gte=capacity)
    return [ResourceOut.from_resource(r) for r in qs]


@router.post("/resources", response={201: ResourceOut}, summary="Create a resource (admin)")
def create_resource(request, payload: ResourceIn):
    fields, related = _model_fields(payload)
    try:
        resource = services.resource_create(
            actor=request.user, request=request, **fields, **related
        )
    except DjangoValidationError as exc:
        raise _invalid(exc) from None
    except IntegrityError:
        raise ApiError(422, "invalid", {"__all__": ["The values contradict each other."]}) from None
    return 201, ResourceOut.from_resource(_resources_qs().get(pk=resource.pk))


@router.get("/resources/{int:resource_id}", response=ResourceOut, summary="One resource")
def get_resource(request, resource_id: int):
    qs = resources_for(request.user, include_inactive=True)
    resource = get_object_or_404(
        qs.prefetch_related("approver_groups", "opening_hours"), pk=resource_id
    )
    return ResourceOut.from_resource(resource)


@router.patch(
    "/resources/{int:resource_id}", response=ResourceOut, summary="Change a resource (admin)"
)
def patch_resource(request, resource_id: int, payload: ResourcePatch):
    if not request.user.is_admin:
        raise PermissionDenied("Only admins manage resources.")
    resource = get_object_or_404(Resource, pk=resource_id)
    fields, related = _model_fields(payload)
    try:
        services.resource_update(
            resource=resource, actor=request.user, request=request, **fields, **related
        )
    except DjangoValidationError as exc:
        raise _invalid(exc) from None
    except IntegrityError:
        raise ApiError(422, "invalid", {"__all__": ["The values contradict each other."]}) from None
    return ResourceOut.from_resource(_resources_qs().get(pk=resource_id))


# --- blackouts ----------------------------------------------------------------------------


class BlackoutIn(Schema):
    resource: int | None = Field(None, description="Empty: every resource")
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field(..., min_length=1, max_length=200)


class BlackoutOut(Schema):
    id: int
    resource: int | None = Field(None, alias="resource_id")
    start: AwareDatetime
    end: AwareDatetime
    reason: str


@router.get("/blackouts", response=list[BlackoutOut], summary="Blackout periods")
def list_blackouts(
    request,
    resource: int | None = None,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
):
    qs = Blackout.objects.all()
    if resource is not None:
        # A resource's blackouts include those for every resource.
        qs = qs.filter(Q(resource_id=resource) | Q(resource__isnull=True))
    if start:
        qs = qs.filter(end__gt=start)
    if end:
        qs = qs.filter(start__lt=end)
    return list(qs.order_by("start"))


@router.post("/blackouts", response={201: BlackoutOut}, summary="Add a blackout (admin)")
def create_blackout(request, payload: BlackoutIn):
    resource = None
    if payload.resource is not None:
        resource = Resource.objects.filter(pk=payload.resource).first()
        if resource is None:
            raise ApiError(422, "invalid", {"resource": ["No such resource."]})
    try:
        blackout = services.blackout_create(
            actor=request.user,
            resource=resource,
            start=payload.start,
            end=payload.end,
            reason=payload.reason,
            request=request,
        )
    except DjangoValidationError as exc:
        raise _invalid(exc) from None
    return 201, blackout


@router.delete("/blackouts/{int:blackout_id}", response={204: None}, summary="Remove a blackout")
def delete_blackout(request, blackout_id: int):
    if not request.user.is_admin:
        raise PermissionDenied("Only admins manage blackouts.")
    blackout = get_object_or_404(Blackout, pk=blackout_id)
    services.blackout_delete(actor=request.user, blackout=blackout, request=request)
    return 204, None


# --- availability -------------------------------------------------------------------------


class Span(Schema):
    start: AwareDatetime
    end: AwareDatetime


class BusySpan(Span):
    kind: str = Field(..., description="booking or blackout")
    status: str = ""


class AvailabilityItem(Schema):
    id: int
    name: str
    kind: str
    location: str
    capacity: int
    timezone: str
    is_free: bool = Field(..., description="Open and free for the whole window")
    busy: list[BusySpan]
    free: list[Span] | None = Field(
        None, description="Free intervals within opening hours (with free=true)"
    )


class AvailabilityOut(Schema):
    start: AwareDatetime
    end: AwareDatetime
    resources: list[AvailabilityItem]


@router.get("/availability", response=AvailabilityOut, summary="Free/busy per resource")
def get_availability(
    request,
    start: AwareDatetime,
    end: AwareDatetime,
    capacity: Annotated[int | None, Query(ge=1)] = None,
    kind: ResourceKind | None = None,
    free: Annotated[bool, Query(description="Also list the free intervals")] = False,
):
    if end <= start:
        raise ApiError(422, "invalid", {"end": ["The end must be after the start."]})
    if end - start > MAX_AVAILABILITY_WINDOW:
        raise ApiError(422, "invalid", {"end": ["Ask for at most 31 days at a time."]})
    if not free and connection.vendor == "postgresql":
        return _busy_only_response(start, end, capacity, kind)
    items = availability(start=start, end=end, capacity=capacity, kind=kind)
    # Built by hand rather than validated through AvailabilityOut (which documents it): for
    # a thousand resources over a week that is tens of thousands of intervals, and schema
    # validation of each was most of the response time. Each instant is formatted once.
    iso: dict = {}

    def fmt(moment) -> str:
        text = iso.get(moment)
        if text is None:
            text = iso[moment] = moment.isoformat()
        return text

    body = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "resources": [
            {
                "id": item.resource.pk,
                "name": item.resource.name,
                "kind": item.resource.kind,
                "location": item.resource.location,
                "capacity": item.resource.capacity,
                "timezone": item.resource.timezone,
                "is_free": item.is_free,
                "busy": [
                    {"start": fmt(b.start), "end": fmt(b.end), "kind": b.kind, "status": b.status}
                    for b in item.busy
                ],
                **(
                    {"free": [{"start": fmt(a), "end": fmt(b)} for a, b in item.free]}
                    if free
                    else {}
                ),
            }
            for item in items
        ],
    }
    return HttpResponse(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        content_type="application/json",
    )


def _busy_only_response(start, end, capacity, kind) -> HttpResponse:
    """The availability answer spliced from JSON the database formatted (PostgreSQL)."""
    parts = []
    for item in availability_busy_json(start=start, end=end, capacity=capacity, kind=kind):
        r = item.resource
        head = json.dumps(
            {
                "id": r.pk,
                "name": r.name,
                "kind": r.kind,
                "location": r.location,
                "capacity": r.capacity,
                "timezone": r.timezone,
                "is_free": item.is_free,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        parts.append(f'{head[:-1]},"busy":{item.busy_json}}}')
    window = json.dumps({"start": start.isoformat(), "end": end.isoformat()})
    return HttpResponse(
        f'{window[:-1]}, "resources": [{",".join(parts)}]}}', content_type="application/json"
    )
