"""/api/v1/bookings: request, list, read, approve, reject, cancel, decide many; and
/api/v1/availability, free/busy per resource.

Errors: 409 ``booking_conflict`` (detail names the clashing slots), 422 ``booking_rule``
(detail.rule says which rule), 409 ``invalid_transition``, 403 for a decision that is not
yours to make, and 404 for a booking you may not see.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Literal

from django.db import connection
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import AwareDatetime

from bookdesk.bookings import services
from bookdesk.bookings.availability import availability, availability_busy_json
from bookdesk.bookings.models import Booking, BookingStatus, Frequency
from bookdesk.bookings.selectors import booking_get_visible, bookings_list
from bookdesk.core.errors import Invalid
from bookdesk.resources.models import Resource, ResourceKind

router = Router(tags=["bookings"])

MAX_PAGE = 500
# SQLite's OFFSET is a signed 64-bit integer; beyond it the database errors instead of
# answering with an empty page. Nobody pages a billion bookings in.
MAX_OFFSET = 10**9
MAX_AVAILABILITY_WINDOW = timedelta(days=31)


class RecurrenceIn(Schema):
    frequency: Frequency
    interval: int = Field(1, ge=1, le=52)
    count: int | None = Field(None, ge=1, le=366)
    until: date | None = Field(None, description="Last day (in the resource's time zone)")
    skip_conflicts: bool = Field(
        False, description="Leave clashing occurrences out instead of booking nothing"
    )


class BookingIn(Schema):
    resource: int
    start: AwareDatetime
    end: AwareDatetime
    title: str = Field(..., min_length=1, max_length=200)
    purpose: str = Field("", max_length=5000)
    attendees: int = Field(1, ge=1)
    recurrence: RecurrenceIn | None = None


class BookingOut(Schema):
    id: int
    resource: int
    resource_name: str
    timezone: str
    requester: str
    start: AwareDatetime
    end: AwareDatetime
    start_local: AwareDatetime = Field(..., description="start in the resource's time zone")
    end_local: AwareDatetime
    title: str
    purpose: str
    attendees: int
    status: BookingStatus
    holds_slot: bool
    series: int | None
    decided_by: str | None
    decided_at: AwareDatetime | None
    decision_reason: str
    created_at: AwareDatetime


class SkippedOccurrence(Schema):
    start: AwareDatetime
    end: AwareDatetime
    reason: str
    message: str


class SeriesOut(Schema):
    series: int
    bookings: list[BookingOut]
    skipped: list[SkippedOccurrence]


class RejectIn(Schema):
    reason: str = Field(..., max_length=2000)


class CancelIn(Schema):
    scope: Literal["one", "following"] = "one"


class DecideIn(Schema):
    ids: list[int] = Field(..., min_length=1, max_length=200)
    action: Literal["approve", "reject"]
    reason: str = Field("", max_length=2000)


class DecisionResult(Schema):
    id: int
    ok: bool
    status: str | None = None
    error: str | None = None
    message: str | None = None


def out(booking: Booking) -> dict:
    zone = booking.resource.zone
    return {
        "id": booking.pk,
        "resource": booking.resource_id,
        "resource_name": booking.resource.name,
        "timezone": booking.resource.timezone,
        "requester": booking.requester.email,
        "start": booking.start,
        "end": booking.end,
        "start_local": booking.start.astimezone(zone),
        "end_local": booking.end.astimezone(zone),
        "title": booking.title,
        "purpose": booking.purpose,
        "attendees": booking.attendees,
        "status": booking.status,
        "holds_slot": booking.holds_slot,
        "series": booking.series_id,
        "decided_by": booking.decided_by.email if booking.decided_by is not None else None,
        "decided_at": booking.decided_at,
        "decision_reason": booking.decision_reason,
        "created_at": booking.created_at,
    }


@router.post(
    "/bookings",
    response={201: BookingOut | SeriesOut},
    summary="Request a booking (or a recurring series)",
    openapi_extra={
        "responses": {
            409: {"description": "The slot is taken; detail.conflicts names the slots"},
            422: {"description": "A rule forbids it; detail.rule and detail.message say why"},
        }
    },
)
def create_booking(request, payload: BookingIn):
    resource = Resource.objects.filter(pk=payload.resource).first()
    if resource is None:
        raise Invalid(
            "No such resource.", detail=[{"loc": ["body", "resource"], "msg": "No such resource."}]
        )
    common = {
        "requester": request.user,
        "resource": resource,
        "start": payload.start,
        "end": payload.end,
        "title": payload.title,
        "purpose": payload.purpose,
        "attendees": payload.attendees,
        "request": request,
    }
    if payload.recurrence is None:
        return 201, out(services.booking_request(**common))
    rec = payload.recurrence
    result = services.booking_request_series(
        **common,
        frequency=rec.frequency,
        interval=rec.interval,
        count=rec.count,
        until=rec.until,
        skip_conflicts=rec.skip_conflicts,
    )
    return 201, {
        "series": result.series.pk,
        "bookings": [out(b) for b in result.bookings],
        "skipped": [
            {k: s[k] for k in ("start", "end", "reason", "message")} for s in result.skipped
        ],
    }


@router.get("/bookings", response=list[BookingOut], summary="Bookings you may see")
def list_bookings(
    request,
    mine: bool = False,
    status: BookingStatus | None = None,
    resource: int | None = None,
    start_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    start_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
):
    qs = bookings_list(
        request.user,
        mine=mine,
        status=status,
        resource=resource,
        start_from=start_from,
        start_to=start_to,
    )
    return [out(b) for b in qs[offset : offset + limit]]


@router.get("/bookings/{int:booking_id}", response=BookingOut, summary="One booking")
def get_booking(request, booking_id: int):
    return out(booking_get_visible(request.user, booking_id))


@router.post("/bookings/{int:booking_id}/approve", response=BookingOut, summary="Approve a request")
def approve_booking(request, booking_id: int):
    booking = booking_get_visible(request.user, booking_id)
    booking = services.booking_approve(booking=booking, actor=request.user, request=request)
    return out(booking)


@router.post("/bookings/{int:booking_id}/reject", response=BookingOut, summary="Reject a request")
def reject_booking(request, booking_id: int, payload: RejectIn):
    booking = booking_get_visible(request.user, booking_id)
    booking = services.booking_reject(
        booking=booking, actor=request.user, reason=payload.reason, request=request
    )
    return out(booking)


@router.post(
    "/bookings/{int:booking_id}/cancel",
    response=list[BookingOut],
    summary="Cancel a booking, or it and the following ones of its series",
)
def cancel_booking(request, booking_id: int, payload: CancelIn | None = None):
    booking = booking_get_visible(request.user, booking_id)
    scope = payload.scope if payload else "one"
    booking = services.booking_cancel(
        booking=booking, actor=request.user, scope=scope, request=request
    )
    return [out(b) for b in booking.cancelled]


@router.post(
    "/bookings/decide", response=list[DecisionResult], summary="Approve or reject many requests"
)
def decide_bookings(request, payload: DecideIn):
    # Requests the user may not even see answer not_found, as a single GET would.
    visible = set(
        bookings_list(request.user).filter(pk__in=payload.ids).values_list("pk", flat=True)
    )
    results = services.bookings_decide(
        ids=[pk for pk in payload.ids if pk in visible],
        action=payload.action,
        actor=request.user,
        reason=payload.reason,
        request=request,
    )
    by_id = {r["id"]: r for r in results}
    return [
        by_id.get(pk, {"id": pk, "ok": False, "error": "not_found", "message": "Not found."})
        for pk in dict.fromkeys(payload.ids)
    ]


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


@router.get(
    "/availability",
    response=AvailabilityOut,
    summary="Free/busy per resource",
    tags=["resources"],
)
def get_availability(
    request,
    start: AwareDatetime,
    end: AwareDatetime,
    capacity: Annotated[int | None, Query(ge=1)] = None,
    kind: ResourceKind | None = None,
    free: Annotated[bool, Query(description="Also list the free intervals")] = False,
):
    if end <= start:
        raise Invalid(
            "The end must be after the start.", detail={"end": ["The end must be after the start."]}
        )
    if end - start > MAX_AVAILABILITY_WINDOW:
        raise Invalid(
            "Ask for at most 31 days at a time.",
            detail={"end": ["Ask for at most 31 days at a time."]},
        )
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
