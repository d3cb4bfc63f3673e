"""Booking errors. Each is an ApiError, so the API answers with it as is; pages show `.message`.

- BookingConflict (409): the slot is taken; ``conflicts`` names each clashing slot.
- BookingRuleViolation (422): a resource rule forbids the request; ``rule`` says which.
- InvalidTransition (409): the booking's state does not allow that step.
"""

from __future__ import annotations

from datetime import datetime

from bookdesk.api.errors import ApiError


class BookingError(ApiError):
    status = 400
    error = "booking_error"

    def __init__(self, message: str, detail: dict | None = None):
        self.message = message
        super().__init__(self.status, self.error, {"message": message, **(detail or {})})

    def __str__(self) -> str:
        return self.message


def slot(*, resource_id: int, start: datetime, end: datetime, booking_id=None, status=None):
    """How a conflicting slot is named to the client (times ISO 8601 with offset)."""
    return {
        "resource": resource_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "booking": booking_id,
        "status": status,
    }


class BookingConflict(BookingError):
    status = 409
    error = "booking_conflict"

    def __init__(self, conflicts: list[dict], message: str | None = None):
        self.conflicts = conflicts
        if message is None:
            first = conflicts[0] if conflicts else None
            message = (
                f"The slot {first['start']} to {first['end']} is already taken."
                if first
                else "The slot is already taken."
            )
        super().__init__(
            message, {"conflicts": conflicts, "slot": conflicts[0] if conflicts else None}
        )


class BookingRuleViolation(BookingError):
    status = 422
    error = "booking_rule"

    def __init__(self, rule: str, message: str, **extra):
        self.rule = rule
        super().__init__(message, {"rule": rule, **extra})


class InvalidTransition(BookingError):
    status = 409
    error = "invalid_transition"

    def __init__(self, message: str, *, status_now: str | None = None):
        super().__init__(message, {"status": status_now})
