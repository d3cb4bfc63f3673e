"""Free/busy of resources over a time window: read from the bookings that hold slots.

It lives with the bookings because that is what it reads; the resources app knows nothing
of bookings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict

from django.db import connection
from django.db.models import QuerySet

from bookdesk.bookings.models import Booking
from bookdesk.resources.models import Blackout, OpeningHours, Resource

# --- free/busy ----------------------------------------------------------------------------


@dataclass(slots=True)
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


def _open_intervals(
    resource: Resource, hours: Sequence[OpeningHours], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The resource's opening intervals intersecting [start, end), as aware datetimes."""
    if not hours:
        return [(start, end)]
    zone = resource.zone
    by_day: dict[int, list[OpeningHours]] = defaultdict(list)
    for row in hours:
        by_day[row.weekday].append(row)
    out: list[tuple[datetime, datetime]] = []
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


def _subtract(
    spans: list[tuple[datetime, datetime]], busy: list[Interval]
) -> list[tuple[datetime, datetime]]:
    """Free parts of ``spans`` once every busy interval is removed (both sorted by start)."""
    free: list[tuple[datetime, datetime]] = []
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


_PG_BUSY_SQL = """
SELECT resource_id, extract(epoch FROM start)::float8, extract(epoch FROM "end")::float8,
       status, id
FROM bookings_booking
WHERE holds_slot AND tstzrange(start, "end", '[)') && tstzrange(%s, %s, '[)')
"""


def _busy_bookings(
    start: datetime, end: datetime, resource_ids: Iterable[int] | None
) -> dict[int, list[Interval]]:
    """Slot-holding bookings overlapping [start, end), by resource.

    ``resource_ids`` None means all resources: a list of a thousand ids would only make
    the query longer.
    """
    assert Booking._meta.db_table == "bookings_booking"  # the SQL below names it
    busy: dict[int, list[Interval]] = defaultdict(list)
    if connection.vendor == "postgresql":
        # Two reasons for SQL here: `&&` on tstzrange can use the GiST index of the
        # no-overlap constraint (start/end comparisons cannot), and epoch seconds convert
        # to datetimes several times faster than psycopg's timestamptz parsing.
        sql = _PG_BUSY_SQL
        params: list[datetime | list[int]] = [start, end]
        if resource_ids is not None:
            sql += " AND resource_id = ANY(%s::bigint[])"
            params.append(list(resource_ids))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        # Bookings start and end on few distinct instants: convert each once.
        instants = {row[1] for row in rows} | {row[2] for row in rows}
        moment = {ts: datetime.fromtimestamp(ts, UTC) for ts in instants}
        for rid, b_start, b_end, status, pk in rows:
            busy[rid].append(Interval(moment[b_start], moment[b_end], "booking", status, pk))
        return busy
    bookings = Booking.objects.filter(holds_slot=True, start__lt=end, end__gt=start)
    if resource_ids is not None:
        bookings = bookings.filter(resource_id__in=resource_ids)
    for rid, b_start, b_end, status, pk in bookings.values_list(
        "resource_id", "start", "end", "status", "pk"
    ).order_by():
        busy[rid].append(Interval(b_start, b_end, "booking", status, pk))
    return busy


def _candidates(*, capacity: int | None, kind: str | None) -> QuerySet[Resource]:
    """Active resources holding at least ``capacity`` people, of ``kind`` when given."""
    resources = Resource.objects.filter(is_active=True).only(
        "name", "kind", "location", "capacity", "timezone"
    )
    if capacity:
        resources = resources.filter(capacity__gte=capacity)
    if kind:
        resources = resources.filter(kind=kind)
    return resources


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
    candidates = _candidates(capacity=capacity, kind=kind)
    if resource_ids is not None:
        candidates = candidates.filter(pk__in=resource_ids)
    narrowed = bool(capacity or kind or resource_ids is not None)
    resources = list(candidates)
    if not resources:
        return []
    # Opening hours of all resources in one query (a prefetch would cost a queryset per
    # resource when read back).
    hours: dict[int, list[OpeningHours]] = defaultdict(list)
    hours_qs = OpeningHours.objects.order_by("weekday", "opens")
    if narrowed:
        hours_qs = hours_qs.filter(resource_id__in=[r.pk for r in resources])
    for row in hours_qs:
        hours[row.resource_id].append(row)
    busy = _busy_bookings(start, end, [r.pk for r in resources] if narrowed else None)
    everywhere: list[Interval] = []
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
        open_spans = _open_intervals(resource, hours.get(resource.pk, ()), start, end)
        free = _subtract(open_spans, spans)
        result.append(
            ResourceAvailability(
                resource=resource, busy=spans, free=free, is_free=free == [(start, end)]
            )
        )
    return result


# --- the availability API's fast path (PostgreSQL) ----------------------------------------

_PG_BUSY_JSON_SQL = """
SELECT resource_id,
       json_agg(json_build_object('start', start, 'end', "end", 'kind', 'booking',
                                  'status', status) ORDER BY start)::text
FROM bookings_booking
WHERE holds_slot AND tstzrange(start, "end", '[)') && tstzrange(%s, %s, '[)')
GROUP BY resource_id
"""


@dataclass
class BusySummary:
    resource: Resource
    busy_json: str  # a JSON array of {start, end, kind, status}, ordered by start
    is_free: bool


def availability_busy_json(
    *, start: datetime, end: datetime, capacity: int | None = None, kind: str | None = None
) -> list[BusySummary]:
    """Busy intervals per resource as ready-made JSON text, PostgreSQL only.

    The same answer as availability() without the free intervals, for the API: the
    database aggregates and formats the bookings (ISO 8601, UTC offset), so Python never
    builds tens of thousands of datetimes for a week of a thousand resources.
    """
    resources = list(_candidates(capacity=capacity, kind=kind))
    if not resources:
        return []
    hours: dict[int, list[OpeningHours]] = defaultdict(list)
    for row in OpeningHours.objects.order_by("weekday", "opens"):
        hours[row.resource_id].append(row)
    with connection.cursor() as cursor:
        # The session time zone is UTC (Django sets it), so times carry +00:00.
        cursor.execute(_PG_BUSY_JSON_SQL, [start, end])
        busy = dict(cursor.fetchall())
    blackouts: dict[int | None, list[dict]] = defaultdict(list)
    for rid, b_start, b_end in Blackout.objects.filter(start__lt=end, end__gt=start).values_list(
        "resource_id", "start", "end"
    ):
        blackouts[rid].append(
            {
                "start": b_start.isoformat(),
                "end": b_end.isoformat(),
                "kind": "blackout",
                "status": "",
            }
        )
    everywhere = blackouts.pop(None, [])
    result = []
    for resource in resources:
        text = busy.get(resource.pk)
        extra = blackouts.get(resource.pk, []) + everywhere
        if extra:
            # Rare: merge the blackouts in, ordered by start (all times are in UTC).
            spans = (json.loads(text) if text else []) + extra
            spans.sort(key=lambda span: datetime.fromisoformat(span["start"]))
            text = json.dumps(spans, separators=(",", ":"))
        open_spans = _open_intervals(resource, hours.get(resource.pk, ()), start, end)
        result.append(
            BusySummary(
                resource=resource,
                busy_json=text or "[]",
                is_free=not text and open_spans == [(start, end)],
            )
        )
    return result


class FreeResource(TypedDict):
    resource: Resource
    start: datetime
    end: datetime
    local_start: str  # the wall-clock times in the resource's zone, for the page's links
    local_end: str


def free_resources(
    *, day: date, time_from: time, time_to: time, capacity: int | None, kind: str | None
) -> list[FreeResource]:
    """Resources free for the whole asked window, read in each resource's own zone.

    One availability() call per distinct zone among the candidates (a handful in practice).
    """
    candidates = _candidates(capacity=capacity, kind=kind)
    by_zone: dict[str, list[int]] = {}
    for pk, zone in candidates.values_list("pk", "timezone"):
        by_zone.setdefault(zone, []).append(pk)
    found: list[FreeResource] = []
    for zone_name, ids in by_zone.items():
        resource_zone = Resource(timezone=zone_name).zone
        start = datetime.combine(day, time_from, tzinfo=resource_zone)
        end = datetime.combine(day, time_to, tzinfo=resource_zone)
        for item in availability(
            start=start,
            end=end,
            capacity=capacity,
            kind=kind,
            resource_ids=None if len(by_zone) == 1 else ids,
        ):
            if item.is_free:
                found.append(
                    {
                        "resource": item.resource,
                        "start": start,
                        "end": end,
                        "local_start": f"{start:%Y-%m-%dT%H:%M}",
                        "local_end": f"{end:%Y-%m-%dT%H:%M}",
                    }
                )
    found.sort(key=lambda f: (f["resource"].capacity, f["resource"].name))
    return found
