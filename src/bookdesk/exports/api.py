"""Exports in the JSON API: GET /exports/bookings.csv|.xlsx|.ics with filters."""

from __future__ import annotations

from ninja import Router

from bookdesk.api.errors import ApiError
from bookdesk.exports.filters import FilterError, parse_filters
from bookdesk.exports.responses import export_response
from bookdesk.exports.services import export_prepare

router = Router(tags=["exports"])

FILTERS_DOC = (
    "Filters (query string): `from`, `to` (YYYY-MM-DD, inclusive UTC days; bookings "
    "overlapping them), `resource` (id, repeatable or comma-separated), `status` "
    "(repeatable), `requester` (email or id). Admins export everything, approvers the "
    "bookings of resources they approve and their own, requesters their own."
)


def _export(request, fmt: str):
    try:
        filters = parse_filters(request.GET)
    except FilterError as exc:
        raise ApiError(422, "invalid", exc.detail) from None
    prepared = export_prepare(user=request.user, filters=filters, fmt=fmt, request=request)
    return export_response(prepared, fmt)


@router.get("/exports/bookings.csv", summary="Bookings as CSV (streamed)", description=FILTERS_DOC)
def export_csv(request):
    return _export(request, "csv")


@router.get("/exports/bookings.xlsx", summary="Bookings as XLSX", description=FILTERS_DOC)
def export_xlsx(request):
    return _export(request, "xlsx")


@router.get(
    "/exports/bookings.ics", summary="Bookings as iCalendar (RFC 5545)", description=FILTERS_DOC
)
def export_ics(request):
    return _export(request, "ics")
