"""Domain errors: what went wrong, said once, with no HTTP in it.

Services, selectors and rules raise these; each edge maps them once: the API to a status
and its JSON error shape (``bookdesk.api.errors``), the pages to a status and a message
(``bookdesk.core.pages``). Every error has

- ``code``: a stable machine-readable name, e.g. ``booking_conflict`` or ``too_large``;
- ``message``: one sentence for the person, e.g. "The slot ... is already taken.";
- ``detail``: what a program reads (the API's ``detail``): the message, unless the error
  has structured detail to give (the clashing slots, the broken rule, invalid fields);
- ``retry_after``: for RateLimited and Unavailable, how long to wait, or None.

The class says what kind of failure it is; a domain may subclass a kind to add fields
(``bookings.errors.BookingConflict`` carries its conflicts).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    message: str = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        detail: Any = None,
        retry_after: timedelta | None = None,
    ) -> None:
        self.message = message or type(self).message
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may name itself
        self.detail: Any = self.message if detail is None else detail
        self.retry_after = retry_after
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def retry_after_seconds(self) -> int | None:
        """``retry_after`` in whole seconds, rounded up and at least 1 (for Retry-After)."""
        if self.retry_after is None:
            return None
        return max(1, int(self.retry_after.total_seconds() + 0.999))


class BadRequest(DomainError):
    """The request itself is malformed or incomplete (a missing or cut-off upload)."""

    code = "bad_request"


class NotAuthenticated(DomainError):
    """The credentials or the one-time code given do not prove who the caller is."""

    code = "unauthorized"
    message = "Sign in first."


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"
    message = "You may not do that."


class NotFound(DomainError):
    """No such thing, or none the caller may see (so its existence does not leak)."""

    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    """The current state does not allow it (a taken slot, a booking already decided)."""

    code = "conflict"


class Gone(DomainError):
    """It existed and was removed (an expired export file)."""

    code = "gone"


class TooLarge(DomainError):
    """Over a size, count or quota limit."""

    code = "too_large"


class Unsupported(DomainError):
    """A kind of content that is not accepted."""

    code = "unsupported_media_type"


class Invalid(DomainError):
    """Well-formed but against the rules (a bad value, a broken booking rule)."""

    code = "invalid"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` says when to try again."""

    code = "too_many_requests"
    message = "Too many attempts. Wait a while, then try again."


class Unavailable(DomainError):
    """Something the change needs (the mail relay) is down; worth trying again later."""

    code = "unavailable"
    message = "This is not available just now. Please try again in a few minutes."
