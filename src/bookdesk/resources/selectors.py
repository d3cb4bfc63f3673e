"""Reads about resources: who approves what, and free/busy over a time window."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from bookdesk.resources.models import Blackout, OpeningHours, Resource


def approvers_for(resource: Resource) -> QuerySet:
    """Active users who may decide requests for ``resource``.

    Members of its approver groups; when it has none, the admins, so that no request is
    left without anyone to decide it.
    """
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    group_ids = list(resource.approver_groups.values_list("pk", flat=True))
    if group_ids:
        return users.filter(groups__in=group_ids).distinct().order_by("email")
    return users.filter(role="admin").order_by("email")


def resources_approvable_by(user) -> QuerySet:
    if not user.is_authenticated:
        return Resource.objects.none()
    if user.is_admin:
        return Resource.objects.all()
    group_ids = user.groups.values("pk")
    return Resource.objects.filter(
        pk__in=Resource.approver_groups.through.objects.filter(group_id__in=group_ids).values(
            "resource_id"
        )
    )


def user_may_decide(user, resource: Resource) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if not resource.approver_groups.exists():
        return False
    return user.groups.filter(pk__in=resource.approver_groups.values("pk")).exists()


def resources_for(user, *, include_inactive: bool = False) -> QuerySet:
    """Resources a user can see: everyone sees active ones; admins may ask for all."""
    qs = Resource.objects.all()
    if not (include_inactive and user.is_admin):
        qs = qs.filter(is_active=True)
    return qs


# --- free/busy ----------------------------------------------------------------------------


@dataclass
class Interval:
    start: datetime
    end: datetime
    kind: str  # "booking" or "blackout" or "closed"
    status: str = ""
    booking_id: int | None = None


@dataclass
class ResourceAvailability:
    resource: Resource
    busy: list[Interval] = field(default_factory=list)
    free: list[tuple[datetime, datetime]] = field(default_factory=list)
    # Open and free for the whole window asked about (the availability search answer).
    is_free: bool = False


def _open_intervals(resource: Resource, start: datetime, end: datetime):
    """The resource's opening intervals intersecting [start, end), as aware UTC datetimes."""
    hours = list(resource.opening_hours.all())  # prefetched
    if not hours:
        return [(start, end)]
    zone = resource.zone
    by_day: dict[int, list[OpeningHours]] = defaultdict(list)
    for row in hours:
        by_day[row.weekday].append(row)
    out = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        for row in by_day.get(day.weekday(), ()):
            a = datetime.combine(day, row.opens, tzinfo=zone)
            b = datetime.combine(day, row.closes, tzinfo=zone)
            a, b = max(a, start), min(b, end)
            if a < b:
                out.append((a, b))
        day += timedelta(days=1)
    out.sort()
    return out


def _subtract(spans, busy):
    """Free parts of ``spans`` once every busy interval is removed (both sorted by start)."""
    free = []
    for a, b in spans:
        cursor = a
        for iv in busy:
            if iv.end <= cursor or iv.start >= b:
                continue
            if iv.start > cursor:
                free.append((cursor, iv.start))
            cursor = max(cursor, iv.end)
            if cursor >= b:
                break
        if cursor < b:
            free.append((cursor, b))
    return free


def availability(
    *,
    start: datetime,
    end: datetime,
    capacity: int | None = None,
    kind: str | None = None,
    resource_ids: list[int] | None = None,
) -> list[ResourceAvailability]:
    """Free/busy of every matching active resource over [start, end).

    A fixed number of queries however many resources match: resources (with opening hours
    prefetched), slot-holding bookings in the window, and blackouts in the window.
    """
    from bookdesk.bookings.models import Booking

    resources = Resource.objects.filter(is_active=True).prefetch_related(
        Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens"))
    )
    if capacity:
        resources = resources.filter(capacity__gte=capacity)
    if kind:
        resources = resources.filter(kind=kind)
    if resource_ids is not None:
        resources = resources.filter(pk__in=resource_ids)
    resources = list(resources)
    if not resources:
        return []
    busy: dict[int, list[Interval]] = defaultdict(list)
    bookings = Booking.objects.filter(holds_slot=True, start__lt=end, end__gt=start)
    # A filter by resource only helps when it narrows the set; for "all resources" a list of
    # a thousand ids would just make the query longer.
    if capacity or kind or resource_ids is not None:
        bookings = bookings.filter(resource_id__in=[r.pk for r in resources])
    for rid, b_start, b_end, status, pk in bookings.values_list(
        "resource_id", "start", "end", "status", "pk"
    ).order_by():
        busy[rid].append(Interval(b_start, b_end, "booking", status, pk))
    everywhere = []
    for rid, b_start, b_end in Blackout.objects.filter(start__lt=end, end__gt=start).values_list(
        "resource_id", "start", "end"
    ):
        interval = Interval(b_start, b_end, "blackout")
        if rid is None:
            everywhere.append(interval)
        else:
            busy[rid].append(interval)
    result = []
    for resource in resources:
        spans = busy.get(resource.pk, []) + everywhere
        spans.sort(key=lambda iv: iv.start)
        open_spans = _open_intervals(resource, start, end)
        free = _subtract(open_spans, spans)
        result.append(
            ResourceAvailability(
                resource=resource, busy=spans, free=free, is_free=free == [(start, end)]
            )
        )
    return result


def local_day_bounds(day, zone) -> tuple[datetime, datetime]:
    """Start of ``day`` and of the next day in ``zone`` (23 or 25 hours apart across DST)."""
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )
