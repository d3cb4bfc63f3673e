"""The rows an export contains: what the user may see, narrowed by the filters."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

from django.db import connection
from django.db.models import Q, QuerySet

from bookdesk.accounts.addresses import normalise_email
from bookdesk.accounts.models import User
from bookdesk.accounts.types import AnyUser
from bookdesk.bookings.models import Booking
from bookdesk.bookings.selectors import bookings_visible_to
from bookdesk.core.errors import NotFound
from bookdesk.exports.filters import ExportFilters
from bookdesk.exports.models import ExportJob
from bookdesk.exports.rows import SOURCES, ExportRow

# The columns every format reads, in ExportRow's order.
EXPORT_FIELDS: tuple[str, ...] = cast(tuple[str, ...], tuple(SOURCES))


def bookings_for_export(user: AnyUser, filters: ExportFilters) -> QuerySet[Booking]:
    """Admins: everything; approvers: their resources and their own; requesters: their own."""
    qs = bookings_visible_to(user)
    start, end = filters.window
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    if filters.resources:
        qs = qs.filter(resource_id__in=filters.resources)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.requester:
        who = filters.requester
        qs = qs.filter(
            Q(requester_id=int(who)) if who.isdigit() else Q(requester__email=normalise_email(who))
        )
    return qs.order_by("start", "id")


def export_jobs_of(user: User) -> QuerySet[ExportJob]:
    """The user's background exports, newest first."""
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_job_of(user: User, job_id: int) -> ExportJob:
    """One of the user's background exports; NotFound for anyone else's."""
    job = ExportJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise NotFound("No such export.")
    return job


CHUNK_ROWS = 2000


def export_rows(qs: QuerySet[Booking]) -> Iterator[ExportRow]:
    """ExportRows, read CHUNK_ROWS at a time from a server-side cursor.

    On PostgreSQL the rows come from a named cursor, like ``QuerySet.iterator()`` would use,
    but opened here so that the cursor may parse timestamps with psycopg's C loader: Django
    registers a pure-Python time-zone loader on its connections, which (measured, see
    bench/results/exports.md) cost over half of a large export's time for four timestamps a
    row. The session time zone is UTC, so the values are the same aware UTC datetimes.
    """
    values = qs.values_list(*EXPORT_FIELDS)
    if connection.vendor != "postgresql":
        yield from map(ExportRow._make, values.iterator(chunk_size=CHUNK_ROWS))
        return
    yield from _postgresql_rows(values)


def _postgresql_rows(values: QuerySet[Booking, tuple[Any, ...]]) -> Iterator[ExportRow]:
    from psycopg.types.datetime import TimestamptzLoader

    sql, params = values.query.sql_with_params()
    connection.ensure_connection()
    # Outside a transaction a named cursor must be WITH HOLD to outlive the implicit one.
    cursor = connection.connection.cursor(
        name=f"bookdesk_export_{uuid.uuid4().hex}", withhold=not connection.in_atomic_block
    )
    try:
        cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.itersize = CHUNK_ROWS
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            yield from map(ExportRow._make, chunk)
    finally:
        cursor.close()
