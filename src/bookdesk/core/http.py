"""The HTTP status of each kind of domain error, for the two edges that answer with one.

The API (``bookdesk.api.errors``) and the pages (``bookdesk.core.pages``) both read this
table, so a kind of failure answers with the same status wherever it is met.
"""

from __future__ import annotations

from django.http import HttpResponseBase

from bookdesk.core import errors

STATUS: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.Unsupported: 415,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


def status_for(exc: errors.DomainError) -> int:
    """The status of the nearest kind ``exc`` belongs to (400 for a bare DomainError)."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def with_retry_after(response: HttpResponseBase, exc: errors.DomainError) -> HttpResponseBase:
    """Add ``Retry-After`` (whole seconds) when the error says how long to wait."""
    seconds = exc.retry_after_seconds
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response
