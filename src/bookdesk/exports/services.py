"""Making exports: the rows a user may take, in a format, with an audit row each time."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from bookdesk.accounts.models import User
from bookdesk.audit.services import audit_record
from bookdesk.bookings.models import Booking
from bookdesk.exports.filters import ExportFilters
from bookdesk.exports.selectors import bookings_for_export

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ics": "text/calendar; charset=utf-8",
}


@dataclass(frozen=True)
class PreparedExport:
    queryset: QuerySet[Booking]
    row_count: int
    filename: str
    content_type: str


def export_prepare(
    *, user: User, filters: ExportFilters, fmt: str, request: HttpRequest | None = None
) -> PreparedExport:
    """Scope and filter the bookings, count them and audit the export (``export.created``)."""
    qs = bookings_for_export(user, filters)
    row_count = qs.count()
    audit_record(
        action="export.created",
        actor=user,
        request=request,
        target_type="exports.bookings",
        format=fmt,
        filters=filters.as_dict(),
        rows=row_count,
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return PreparedExport(
        queryset=qs,
        row_count=row_count,
        filename=f"bookings-{stamp}.{fmt}",
        content_type=FORMATS[fmt],
    )
