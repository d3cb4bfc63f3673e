"""HTTP responses for exports, shared by the API and the exports page."""

from __future__ import annotations

from django.db import connection
from django.http import FileResponse, StreamingHttpResponse

from bookdesk.exports import writers
from bookdesk.exports.pgcopy import copy_csv_chunks
from bookdesk.exports.selectors import export_rows
from bookdesk.exports.services import PreparedExport


def csv_stream(queryset, progress=None):
    """CSV bytes of ``queryset``: formatted by PostgreSQL's COPY there, by Python elsewhere."""
    if connection.vendor == "postgresql":
        return copy_csv_chunks(queryset, progress=progress)
    return writers.csv_chunks(export_rows(queryset), progress=progress)


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
