"""/api/v1/resources and /api/v1/blackouts (availability is read with the bookings)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime, field_validator

from bookdesk.core.errors import Invalid
from bookdesk.resources import services
from bookdesk.resources.models import Blackout, Resource, ResourceKind
from bookdesk.resources.selectors import resources_for

router = Router(tags=["resources"])

MAX_AVAILABILITY_WINDOW = timedelta(days=31)


class OpeningHoursSchema(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    opens: time = Field(..., description="Wall-clock time in the resource's time zone, no offset")
    closes: time = Field(..., description="Wall-clock time in the resource's time zone, no offset")

    @field_validator("opens", "closes")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        # Opening hours are read in the resource's own zone; an offset would either be
        # dropped (PostgreSQL's time column) or refused by the driver (SQLite).
        if value.tzinfo is not None:
            raise ValueError("give a wall-clock time without a UTC offset, e.g. 08:00")
        return value


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
    resource = services.resource_create(actor=request.user, request=request, **fields, **related)
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
    resource = get_object_or_404(Resource, pk=resource_id)
    fields, related = _model_fields(payload)
    services.resource_update(
        resource=resource, actor=request.user, request=request, **fields, **related
    )
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
            raise Invalid("No such resource.", detail={"resource": ["No such resource."]})
    blackout = services.blackout_create(
        actor=request.user,
        resource=resource,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
        request=request,
    )
    return 201, blackout


@router.delete("/blackouts/{int:blackout_id}", response={204: None}, summary="Remove a blackout")
def delete_blackout(request, blackout_id: int):
    blackout = get_object_or_404(Blackout, pk=blackout_id)
    services.blackout_delete(actor=request.user, blackout=blackout, request=request)
    return 204, None
