"""The rows an export contains: what the user may see, narrowed by the filters."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from bookdesk.bookings.selectors import bookings_visible_to
from bookdesk.exports.filters import ExportFilters

# The columns every format reads, as one flat tuple per booking (no model instances:
# a million rows must not build a million objects).
EXPORT_FIELDS = (
    "id",
    "resource__name",
    "resource__location",
    "requester__email",
    "title",
    "purpose",
    "attendees",
    "status",
    "start",
    "end",
    "resource__timezone",
    "created_at",
    "updated_at",
    "decided_by__email",
    "decided_at",
    "decision_reason",
)


def bookings_for_export(user, filters: ExportFilters) -> QuerySet:
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
            Q(requester_id=int(who)) if who.isdigit() else Q(requester__email__iexact=who)
        )
    return qs.order_by("start", "id")


def export_rows(qs: QuerySet):
    """Flat tuples in EXPORT_FIELDS order, read in chunks (a server-side cursor on PostgreSQL)."""
    return qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
