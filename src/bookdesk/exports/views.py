"""The exports page (filters, background jobs, calendar feeds) and the feed endpoint."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_GET, require_POST

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.bookings.models import BookingStatus
from bookdesk.core.access import verified_required
from bookdesk.exports import feeds, jobs
from bookdesk.exports.filters import FilterError, parse_filters
from bookdesk.exports.models import ExportStatus
from bookdesk.exports.responses import export_response, job_file_response
from bookdesk.exports.selectors import bookings_for_export, export_jobs_of, export_rows
from bookdesk.exports.services import FORMATS, export_prepare
from bookdesk.exports.writers import ics_chunks
from bookdesk.resources.selectors import resources_for


def _page(request, *, errors=None, status=200):
    user = request.user
    user_jobs = list(export_jobs_of(user)[:20])
    context = {
        "resources": resources_for(user, include_inactive=True),
        "statuses": BookingStatus.choices,
        "formats": list(FORMATS),
        "values": request.POST if request.method == "POST" else QueryDict(),
        "errors": errors or [],
        "jobs": user_jobs,
        "jobs_running": any(
            j.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for j in user_jobs
        ),
        "feeds": feeds.feeds_of(user),
        "background_rows": settings.EXPORT_BACKGROUND_ROWS,
        "may_filter_requester": user.is_approver,
    }
    return render(request, "exports/page.html", context, status=status)


@verified_required
def exports_page(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        return _page(request)
    fmt = request.POST.get("format", "csv")
    if fmt not in FORMATS:
        return _page(request, errors=["Choose CSV, XLSX or iCalendar."], status=422)
    try:
        filters = parse_filters(request.POST)
    except FilterError as exc:
        return _page(request, errors=[d["msg"] for d in exc.detail], status=422)
    if bookings_for_export(request.user, filters).count() > settings.EXPORT_BACKGROUND_ROWS:
        job = jobs.export_job_create(user=request.user, filters=filters, fmt=fmt, request=request)
        messages.info(
            request,
            f"That is a big export ({job.rows_total} bookings): it is being prepared in the "
            "background and will be listed below with a download link when ready.",
        )
        return redirect("exports:page")
    prepared = export_prepare(user=request.user, filters=filters, fmt=fmt, request=request)
    return export_response(prepared, fmt)


@require_GET
@verified_required
def job_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    return job_file_response(
        jobs.export_job_download(user=request.user, job_id=pk, request=request)
    )


@require_POST
@verified_required
def feed_create(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    resource = None
    resource_id = request.POST.get("resource") or ""
    if resource_id:
        resource = (
            resources_for(request.user, include_inactive=True)
            .filter(pk=resource_id if resource_id.isdigit() else 0)
            .first()
        )
        if resource is None:
            raise Http404("No such resource.")
    _token, raw = feeds.feed_token_create(user=request.user, resource=resource, request=request)
    subject = resource.name if resource else "your bookings"
    messages.success(
        request,
        f"Your calendar feed for {subject}: {feeds.feed_url(raw)} — copy it now into your "
        "calendar app; it is not shown again. Anyone with the address can read the feed.",
    )
    return redirect("exports:page")


@require_POST
@verified_required
def feed_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    if not feeds.feed_token_revoke(user=request.user, token_id=pk, request=request):
        raise Http404("No such feed.")
    messages.success(request, "The feed address no longer works.")
    return redirect("exports:page")


@require_GET
def feed(request, token: str):
    """A calendar feed, by its secret address (no session: calendar apps poll it)."""
    found = feeds.feed_token_lookup(token)
    if found is None:
        return HttpResponse("No such feed.\n", status=404, content_type="text/plain")
    qs = feeds.feed_bookings(found)
    etag, last_modified = feeds.feed_validators(found, qs)
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified.timestamp()),
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
        "Referrer-Policy": "no-referrer",
    }
    not_modified = get_conditional_response(
        request, etag=etag, last_modified=int(last_modified.timestamp())
    )
    if not_modified is not None:
        for name, value in headers.items():
            not_modified[name] = value
        return not_modified
    name = (
        f"Bookdesk: {found.resource.name}"
        if found.resource is not None
        else "Bookdesk: my bookings"
    )
    response = StreamingHttpResponse(
        ics_chunks(export_rows(qs), name=name), content_type="text/calendar; charset=utf-8"
    )
    for header, value in headers.items():
        response[header] = value
    return response
