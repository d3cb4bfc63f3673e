"""Show booking times in the resource's own zone, with the zone named."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import template
from django.utils import timezone

from bookdesk.core.zones import zone_named

register = template.Library()


def _zone(resource) -> zoneinfo.ZoneInfo:
    # A blackout for every resource (no resource) is kept in UTC.
    return zone_named(resource.timezone if resource is not None else None)


def local_span_text(start: datetime, end: datetime, resource) -> str:
    zone = _zone(resource)
    a, b = timezone.localtime(start, zone), timezone.localtime(end, zone)
    if a.date() == b.date():
        text = f"{a:%a %d %b %Y}, {a:%H:%M}\u2013{b:%H:%M}"
    else:
        text = f"{a:%a %d %b %Y %H:%M} \u2013 {b:%a %d %b %Y %H:%M}"
    return f"{text} ({zone.key})"


@register.filter
def local_span(booking) -> str:
    """'Tue 24 Nov 2026, 14:00-16:00 (Europe/Berlin)' for a booking (or blackout with resource)."""
    if isinstance(booking, dict):
        return local_span_text(booking["start"], booking["end"], booking["resource"])
    return local_span_text(booking.start, booking.end, booking.resource)


@register.simple_tag
def local_time(value: datetime, resource, fmt: str = "%a %d %b %Y %H:%M") -> str:
    """One instant in the resource's zone, e.g. for a decision time."""
    if value is None:
        return ""
    return timezone.localtime(value, _zone(resource)).strftime(fmt)


@register.filter
def iso(value: datetime) -> str:
    return value.isoformat() if value else ""
