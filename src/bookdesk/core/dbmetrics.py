"""Counting database errors and slow queries on every connection the app opens.

django-prometheus (the database ENGINE) already counts queries, their latency and failed
connection attempts by vendor; these two counters are the ones Bookdesk's alerts read:
`bookdesk_db_errors_total` and `bookdesk_db_slow_queries_total`.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import InterfaceError, OperationalError

from bookdesk.core.metrics import DB_ERRORS, DB_SLOW_QUERIES

DB_ERROR_TYPES = (OperationalError, InterfaceError)
_COUNTED = "_bookdesk_db_error_counted"


def count_db_error(exc: BaseException) -> None:
    """Count a connection-level database error once, however many layers see it pass."""
    if isinstance(exc, DB_ERROR_TYPES) and not getattr(exc, _COUNTED, False):
        DB_ERRORS.inc()
        setattr(exc, _COUNTED, True)


def observe_query(execute, sql, params, many, context):
    """A connection.execute_wrapper: errors and queries over DB_SLOW_QUERY_SECONDS."""
    started = time.monotonic()
    try:
        return execute(sql, params, many, context)
    except DB_ERROR_TYPES as exc:
        count_db_error(exc)
        raise
    finally:
        if time.monotonic() - started > settings.DB_SLOW_QUERY_SECONDS:
            DB_SLOW_QUERIES.inc()


def install_on_connection(sender, connection, **kwargs):
    """connection_created receiver: wrap every new connection once."""
    if observe_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(observe_query)


def count_request_db_error(sender, request=None, **kwargs):
    """got_request_exception receiver: a failed connect never reaches a query wrapper."""
    import sys

    exc = sys.exc_info()[1]
    if exc is not None:
        count_db_error(exc)
