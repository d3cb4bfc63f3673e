"""HTTP responses for exports, shared by the API and the exports page."""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse

from bookdesk.exports import writers
from bookdesk.exports.selectors import export_rows
from bookdesk.exports.services import PreparedExport


def export_response(prepared: PreparedExport, fmt: str):
    rows = export_rows(prepared.queryset)
    if fmt == "xlsx":
        handle, _count = writers.xlsx_tempfile(rows)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=prepared.filename,
            content_type=prepared.content_type,
        )
    else:
        chunks = writers.csv_chunks(rows) if fmt == "csv" else writers.ics_chunks(rows)
        response = StreamingHttpResponse(chunks, content_type=prepared.content_type)
        response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    response["X-Export-Rows"] = str(prepared.row_count)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
