"""Expanding a daily or weekly rule into occurrences, in the resource's time zone.

Each occurrence keeps the first one's local wall-clock start and end (09:00-10:00 stays
09:00-10:00 local on both sides of a daylight-saving change), so its UTC time shifts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bookdesk.bookings.errors import BookingRuleViolation
from bookdesk.bookings.models import Frequency

MAX_OCCURRENCES = 366


def expand(
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    frequency: str,
    interval: int = 1,
    count: int | None = None,
    until: date | None = None,
) -> list[tuple[datetime, datetime]]:
    """The occurrences as (start, end) in UTC, first one included."""
    if frequency not in Frequency.values:
        raise BookingRuleViolation("recurrence", "Repeat daily or weekly.")
    if interval < 1:
        raise BookingRuleViolation("recurrence", "The repeat interval must be at least 1.")
    if count is None and until is None:
        raise BookingRuleViolation("recurrence", "Say how often (count) or until which date.")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise BookingRuleViolation(
            "recurrence", f"A series has between 1 and {MAX_OCCURRENCES} occurrences."
        )
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    if until is not None and until < local_start.date():
        raise BookingRuleViolation("recurrence", "The until-date is before the first occurrence.")
    day_span = (local_end.date() - local_start.date()).days
    step = timedelta(days=interval * (7 if frequency == Frequency.WEEKLY else 1))
    occurrences: list[tuple[datetime, datetime]] = []
    day = local_start.date()
    while True:
        if count is not None and len(occurrences) >= count:
            break
        if until is not None and day > until:
            break
        if len(occurrences) >= MAX_OCCURRENCES:
            raise BookingRuleViolation(
                "recurrence", f"A series has at most {MAX_OCCURRENCES} occurrences."
            )
        a = datetime.combine(day, local_start.time(), tzinfo=zone)
        b = datetime.combine(day + timedelta(days=day_span), local_end.time(), tzinfo=zone)
        occurrences.append((a.astimezone(ZoneInfo("UTC")), b.astimezone(ZoneInfo("UTC"))))
        day += step
    return occurrences
