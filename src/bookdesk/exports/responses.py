"""HTTP responses for exports, shared by the API and the exports page."""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse

from bookdesk.exports import writers
from bookdesk.exports.jobs import JobFile
from bookdesk.exports.pgcopy import csv_stream
from bookdesk.exports.selectors import export_rows
from bookdesk.exports.services import PreparedExport


def export_response(prepared: PreparedExport, fmt: str):
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_stream(prepared.queryset), content_type=prepared.content_type
        )
        response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    elif fmt == "xlsx":
        rows = export_rows(prepared.queryset)
        handle, _count = writers.xlsx_tempfile(rows)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=prepared.filename,
            content_type=prepared.content_type,
        )
    else:
        chunks = writers.ics_chunks(export_rows(prepared.queryset))
        response = StreamingHttpResponse(chunks, content_type=prepared.content_type)
        response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    response["X-Export-Rows"] = str(prepared.row_count)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def job_file_response(job_file: JobFile) -> FileResponse:
    """A finished background export, as a download."""
    response = FileResponse(
        job_file.handle,
        as_attachment=True,
        filename=job_file.filename,
        content_type=job_file.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
