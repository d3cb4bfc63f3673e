"""Exports in the JSON API: GET /exports/bookings.csv|.xlsx|.ics with filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import Http404, QueryDict
from ninja import Field, Router, Schema

from bookdesk.exports import feeds
from bookdesk.exports.filters import parse_filters
from bookdesk.exports.jobs import export_job_create, export_job_download
from bookdesk.exports.models import ExportJob, ExportStatus
from bookdesk.exports.responses import export_response, job_file_response
from bookdesk.exports.selectors import export_job_of
from bookdesk.exports.services import export_prepare
from bookdesk.resources.selectors import resources_for

router = Router(tags=["exports"])

FILTERS_DOC = (
    "Filters (query string): `from`, `to` (YYYY-MM-DD, inclusive UTC days; bookings "
    "overlapping them), `resource` (id, repeatable or comma-separated), `status` "
    "(repeatable), `requester` (email or id). Admins export everything, approvers the "
    "bookings of resources they approve and their own, requesters their own."
)


def _export(request, fmt: str):
    filters = parse_filters(request.GET)
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


# --- background jobs ------------------------------------------------------------------------


class JobIn(Schema):
    format: Literal["csv", "xlsx", "ics"]
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    resource: list[int] = []
    status: list[str] = []
    requester: str | None = None


class JobOut(Schema):
    id: int
    format: str
    status: str
    rows_done: int
    rows_total: int
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None


def _job_out(job: ExportJob) -> dict:
    return {
        "id": job.pk,
        "format": job.format,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "download_url": f"/api/v1/exports/jobs/{job.pk}/file"
        if job.status == ExportStatus.DONE
        else None,
    }


@router.post("/exports/jobs", response={202: JobOut}, summary="Start a background export")
def create_job(request, payload: JobIn):
    query = QueryDict(mutable=True)
    query["from"] = payload.date_from.isoformat() if payload.date_from else ""
    query["to"] = payload.date_to.isoformat() if payload.date_to else ""
    query.setlist("resource", [str(r) for r in payload.resource])
    query.setlist("status", payload.status)
    query["requester"] = payload.requester or ""
    filters = parse_filters(query)
    job = export_job_create(user=request.user, filters=filters, fmt=payload.format, request=request)
    return 202, _job_out(job)


@router.get("/exports/jobs/{job_id}", response=JobOut, summary="A background export's progress")
def get_job(request, job_id: int):
    return _job_out(export_job_of(request.user, job_id))


@router.get("/exports/jobs/{job_id}/file", summary="A finished background export's file")
def get_job_file(request, job_id: int):
    return job_file_response(export_job_download(user=request.user, job_id=job_id, request=request))


# --- calendar feeds -------------------------------------------------------------------------


class FeedIn(Schema):
    resource_id: int | None = None


class FeedOut(Schema):
    id: int
    resource_id: int | None
    prefix: str
    created_at: datetime
    url: str | None = None


@router.get("/feeds", response=list[FeedOut], summary="Your live calendar feeds")
def list_feeds(request):
    return [
        {"id": f.pk, "resource_id": f.resource_id, "prefix": f.prefix, "created_at": f.created_at}
        for f in feeds.feeds_of(request.user)
    ]


@router.post(
    "/feeds",
    response={201: FeedOut},
    summary="Make a feed address (replaces the live one for the same subject)",
)
def create_feed(request, payload: FeedIn):
    resource = None
    if payload.resource_id is not None:
        resource = (
            resources_for(request.user, include_inactive=True)
            .filter(pk=payload.resource_id)
            .first()
        )
        if resource is None:
            raise Http404
    token, raw = feeds.feed_token_create(user=request.user, resource=resource, request=request)
    return 201, {
        "id": token.pk,
        "resource_id": token.resource_id,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "url": feeds.feed_url(raw),
    }


@router.delete("/feeds/{feed_id}", response={204: None}, summary="Revoke a feed address")
def delete_feed(request, feed_id: int):
    if not feeds.feed_token_revoke(user=request.user, token_id=feed_id, request=request):
        raise Http404
    return 204, None
