"""Booking errors: domain errors (no HTTP) that carry what a client needs to try again.

- BookingConflict (a Conflict): the slot is taken; ``conflicts`` names each clashing slot.
- BookingRuleViolation (an Invalid): a resource rule forbids the request; ``rule`` says which.
- InvalidTransition (a Conflict): the booking's state does not allow that step.

Their ``detail`` is ``{"message": ..., <the fields above>}``, which the API returns as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookdesk.core.errors import Conflict, Invalid


def slot(
    *,
    resource_id: int,
    start: datetime,
    end: datetime,
    booking_id: int | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """How a conflicting slot is named to the client (times ISO 8601 with offset)."""
    return {
        "resource": resource_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "booking": booking_id,
        "status": status,
    }


class BookingConflict(Conflict):
    code = "booking_conflict"

    def __init__(self, conflicts: list[dict[str, Any]], message: str | None = None) -> None:
        self.conflicts = conflicts
        first = conflicts[0] if conflicts else None
        if message is None:
            message = (
                f"The slot {first['start']} to {first['end']} is already taken."
                if first
                else "The slot is already taken."
            )
        super().__init__(
            message, detail={"message": message, "conflicts": conflicts, "slot": first}
        )


class BookingRuleViolation(Invalid):
    code = "booking_rule"

    def __init__(self, rule: str, message: str, **extra: Any) -> None:
        self.rule = rule
        super().__init__(message, detail={"message": message, "rule": rule, **extra})


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, message: str, *, status_now: str | None = None) -> None:
        super().__init__(message, detail={"message": message, "status": status_now})
