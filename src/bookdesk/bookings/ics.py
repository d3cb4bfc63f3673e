"""The .ics attachment of a booking's emails (RFC 5545, built with the icalendar package)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress


def booking_uid(pk: int) -> str:
    """Stable per booking, across mails, exports and feeds: a calendar app updates (or
    cancels) the event it already has instead of adding another."""
    host = urlsplit(settings.SITE_URL).hostname or "bookdesk"
    return f"booking-{pk}@{host}"


def resource_zone(resource) -> ZoneInfo | None:
    try:
        return ZoneInfo(resource.timezone) if resource.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def booking_ics(booking, *, url: str = "", cancelled: bool = False) -> bytes:
    """One VEVENT for the booking; ``cancelled`` makes it METHOD:CANCEL (SEQUENCE 1)."""
    resource = booking.resource
    zone = resource_zone(resource)
    start, end = booking.start, booking.end
    if zone is not None:
        start, end = start.astimezone(zone), end.astimezone(zone)
    else:
        start, end = start.astimezone(UTC), end.astimezone(UTC)

    cal = Calendar()
    cal.add("prodid", "-//Bookdesk//Bookings//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")

    event = Event()
    event.add("uid", booking_uid(booking.pk))
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", f"{booking.title} ({resource.name})" if booking.title else resource.name)
    location = ", ".join(part for part in (resource.name, resource.location) if part)
    event.add("location", location)
    if booking.purpose:
        event.add("description", booking.purpose)
    if url:
        event.add("url", url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Each change to an event a calendar already holds must raise SEQUENCE.
    event.add("sequence", 1 if cancelled else 0)
    organizer_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if organizer_address:
        organizer = vCalAddress(f"mailto:{organizer_address}")
        organizer.params["cn"] = "Bookdesk"
        event.add("organizer", organizer)
    cal.add_component(event)
    if zone is not None:
        # Only the zone's rules around the booking, not every transition since 1970.
        cal.add_missing_timezones(
            first_date=(start - timedelta(days=366)).date(),
            last_date=(end + timedelta(days=366)).date(),
        )
    return cal.to_ical()
