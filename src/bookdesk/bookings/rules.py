"""The resource rules a booking request must meet (each breach is a 422 with a clear message).

Times are compared in the resource's own time zone where people think in local time:
opening hours are local wall-clock times, so a 09:00-17:00 room stays 09:00-17:00 local
across daylight-saving changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from bookdesk.bookings.errors import BookingRuleViolation
from bookdesk.resources.models import Blackout, Resource


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not parts:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def check_request_rules(
    *,
    resource: Resource,
    start: datetime,
    end: datetime,
    attendees: int,
    now: datetime | None = None,
) -> None:
    """Raise BookingRuleViolation naming the first rule the request breaks."""
    now = now or timezone.now()
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise BookingRuleViolation("naive_time", "Give start and end with a UTC offset.")
    if not resource.is_active:
        raise BookingRuleViolation("inactive", f"{resource.name} is not bookable at the moment.")
    if end <= start:
        raise BookingRuleViolation("end_before_start", "The end must be after the start.")
    if attendees < 1:
        raise BookingRuleViolation("attendees", "At least one person must attend.")
    if attendees > resource.capacity:
        raise BookingRuleViolation(
            "capacity",
            f"{resource.name} holds at most {resource.capacity} people; you asked for {attendees}.",
            capacity=resource.capacity,
        )
    duration = end - start
    if duration < resource.min_duration:
        raise BookingRuleViolation(
            "min_duration",
            f"Bookings of {resource.name} last at least {_human(resource.min_duration)}.",
        )
    if duration > resource.max_duration:
        raise BookingRuleViolation(
            "max_duration",
            f"Bookings of {resource.name} last at most {_human(resource.max_duration)}.",
        )
    if start < now:
        raise BookingRuleViolation("in_past", "The start is in the past.")
    if start < now + resource.min_notice:
        raise BookingRuleViolation(
            "min_notice",
            f"{resource.name} must be requested at least {_human(resource.min_notice)} ahead.",
        )
    if start > now + resource.max_advance:
        raise BookingRuleViolation(
            "max_advance",
            f"{resource.name} can be booked at most {_human(resource.max_advance)} ahead.",
        )
    check_opening_hours(resource=resource, start=start, end=end)
    blackout = (
        Blackout.objects.filter(Q(resource=resource) | Q(resource__isnull=True))
        .filter(start__lt=end, end__gt=start)
        .order_by("start")
        .first()
    )
    if blackout is not None:
        zone = resource.zone
        raise BookingRuleViolation(
            "blackout",
            f"{resource.name} is unavailable from {blackout.start.astimezone(zone):%Y-%m-%d %H:%M} "
            f"to {blackout.end.astimezone(zone):%Y-%m-%d %H:%M} ({blackout.reason}).",
            blackout={
                "start": blackout.start.isoformat(),
                "end": blackout.end.isoformat(),
                "reason": blackout.reason,
            },
        )


def check_opening_hours(*, resource: Resource, start: datetime, end: datetime) -> None:
    hours = list(resource.opening_hours.all())
    if not hours:
        return  # no hours configured: bookable around the clock
    zone = resource.zone
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    weekday = local_start.weekday()
    for row in hours:
        if (
            row.weekday == weekday
            and local_end.date() == local_start.date()
            and row.opens <= local_start.time()
            and local_end.time() <= row.closes
        ):
            return
    today = [h for h in hours if h.weekday == weekday]
    if today:
        listed = ", ".join(f"{h.opens:%H:%M}-{h.closes:%H:%M}" for h in today)
        message = (
            f"{resource.name} can be booked on {local_start:%A}s {listed} ({resource.timezone})."
        )
    else:
        message = f"{resource.name} cannot be booked on {local_start:%A}s."
    raise BookingRuleViolation("opening_hours", message)
