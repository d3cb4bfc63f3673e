"""Calendar windows and the bookings shown in them.

The calendar shows every booking at its wall-clock time in its resource's zone (the zone
is named beside it), so a room in Berlin reads 09:00 whoever looks. The page and the JSON
feed therefore speak "floating" local times: a window is a pair of naive datetimes, and
each booking is converted to its resource's zone before it is compared with the window.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from bookdesk.bookings.models import OPEN_STATUSES, Booking
from bookdesk.core.zones import zone_named

VIEWS = {
    # our name: (FullCalendar view, label)
    "day": ("timeGridDay", "Day"),
    "week": ("timeGridWeek", "Week"),
    "month": ("dayGridMonth", "Month"),
}
# Time zones differ from UTC by at most 14 hours; widen the UTC query by that much.
_ZONE_SLACK = timedelta(hours=14)
MAX_WINDOW = timedelta(days=62)
# A month across a thousand busy resources is more than a page can show; past this many
# bookings the page says so and asks for one resource instead.
MAX_ENTRIES = 500


@dataclass(frozen=True)
class Window:
    view: str
    anchor: date
    start: datetime  # naive, local wall-clock
    end: datetime

    @property
    def title(self) -> str:
        if self.view == "day":
            return f"{self.anchor:%A %d %B %Y}"
        if self.view == "week":
            last = (self.end - timedelta(days=1)).date()
            return f"Week of {self.start:%d %b} \u2013 {last:%d %b %Y}"
        return f"{self.anchor:%B %Y}"

    def shifted(self, step: int) -> date:
        if self.view == "day":
            return self.anchor + timedelta(days=step)
        if self.view == "week":
            return self.anchor + timedelta(days=7 * step)
        month = self.anchor.month - 1 + step
        return date(self.anchor.year + month // 12, month % 12 + 1, 1)


def window_for(view: str, anchor: date) -> Window:
    if view == "day":
        first, last = anchor, anchor + timedelta(days=1)
    elif view == "week":
        first = anchor - timedelta(days=anchor.weekday())  # weeks start on Monday
        last = first + timedelta(days=7)
    else:
        view = "month"
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return Window(
        view=view,
        anchor=anchor,
        start=datetime.combine(first, time()),
        end=datetime.combine(last, time()),
    )


def zone_of(resource) -> zoneinfo.ZoneInfo:
    return zone_named(resource.timezone)


@dataclass
class CalendarEntry:
    booking: Booking
    visible: bool  # may this user see who and what; otherwise just "Busy"
    start: datetime  # naive local
    end: datetime
    zone: str


def entries_in_window(
    user, start: datetime, end: datetime, resource=None, *, limit: int = MAX_ENTRIES
) -> tuple[list[CalendarEntry], bool]:
    """Open bookings overlapping the local window [start, end), oldest start first.

    Bookings the user may see come with their details; other bookings that hold a slot
    show only as busy time, so a requester can see when a room is taken. Returns the
    entries and whether there were more than ``limit`` (then only the first are given).
    Two queries whatever the window.
    """
    from bookdesk.bookings.selectors import bookings_visible_to

    utc_start = start.replace(tzinfo=UTC) - _ZONE_SLACK
    utc_end = end.replace(tzinfo=UTC) + _ZONE_SLACK
    query = (
        Booking.objects.filter(status__in=OPEN_STATUSES, start__lt=utc_end, end__gt=utc_start)
        .select_related("resource", "requester")
        .order_by("start", "id")
    )
    if resource is not None:
        query = query.filter(resource=resource)
    candidates = list(query[: limit + 1])
    truncated = len(candidates) > limit
    candidates = candidates[:limit]
    ids = [b.pk for b in candidates]
    visible = set(bookings_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    entries = []
    for booking in candidates:
        seen = booking.pk in visible
        if not seen and not booking.holds_slot:
            continue
        zone = zone_of(booking.resource)
        local_start = timezone.localtime(booking.start, zone).replace(tzinfo=None)
        local_end = timezone.localtime(booking.end, zone).replace(tzinfo=None)
        if local_start < end and local_end > start:
            entries.append(CalendarEntry(booking, seen, local_start, local_end, zone.key))
    entries.sort(key=lambda e: (e.start, e.booking.pk))
    return entries, truncated


def feed_item(entry: CalendarEntry) -> dict:
    booking = entry.booking
    item = {
        "id": str(booking.pk),
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "classNames": [f"booking-{booking.status}" if entry.visible else "booking-busy"],
        "extendedProps": {
            "resource": booking.resource.name,
            "zone": entry.zone,
            "status": booking.status if entry.visible else "busy",
        },
    }
    if entry.visible:
        item["title"] = f"{booking.title} · {booking.resource.name}"
        item["url"] = reverse("bookings:detail", args=[booking.pk])
    else:
        item["title"] = f"Busy · {booking.resource.name}"
    return item


def parse_floating(value: str | None) -> datetime | None:
    """A feed bound as FullCalendar sends it ('2026-11-23T00:00:00Z' or a bare date)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)
