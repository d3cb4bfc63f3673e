"""Failures from below the domain, said as domain errors: one list for both edges.

Some exceptions are not bugs in our code but facts about the input or a dependency:
a request body over the size limit, a number or a date past what Python's datetime or
the database's integers hold, text the database refuses, a database that cannot be
reached or that gave up waiting (statement or lock timeout). Without this list each one is
a 500, which tells the client nothing and pages the operator for a typo. The API's
exception handler (``bookdesk.api.errors``), the pages' ``DomainErrorMiddleware`` and the
site-wide 500 handler (for what middleware raised before any view ran) all ask
``domain_error_for`` first.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DataError, InterfaceError, OperationalError

from bookdesk.core import errors

log = structlog.get_logger("bookdesk.errors")

# How long a client should wait after the database failed it; about how long a
# failover or a restart takes, and long enough not to pile retries onto a struggling server.
DATABASE_RETRY_AFTER = timedelta(seconds=30)


class OutOfRange(errors.BadRequest):
    code = "out_of_range"
    message = "A value in the request is outside the range this service accepts."


class DatabaseUnavailable(errors.Unavailable):
    message = "The database is not reachable just now. Please try again in a minute."


def domain_error_for(exc: BaseException) -> errors.DomainError | None:
    """The domain error ``exc`` stands for, or None when it is a bug (a real 500)."""
    if isinstance(exc, errors.DomainError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return errors.TooLarge("The request body is larger than the server accepts.")
    if isinstance(exc, TooManyFieldsSent):
        return errors.TooLarge("The request has more fields than the server accepts.")
    if isinstance(exc, OverflowError):
        # datetime arithmetic past year 1 or 9999, an integer past 64 bits for SQLite.
        return OutOfRange()
    if isinstance(exc, DataError):
        # PostgreSQL: a number past bigint, a date past its range, a NUL in text.
        log.warning("input_refused_by_database", error=str(exc).splitlines()[0][:200])
        return OutOfRange()
    if isinstance(exc, OperationalError | InterfaceError):
        # Connection refused or lost, connect timeout, statement or lock timeout, a
        # deadlock victim, SQLite's "database is locked": all worth trying again later.
        first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
        log.error("database_unavailable", error=first_line)
        return DatabaseUnavailable(retry_after=DATABASE_RETRY_AFTER)
    return None
