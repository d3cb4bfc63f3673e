"""The response that hands out an attachment: in development, behind nginx, or from a bucket.

Whatever the stored type, the browser is told to download (never render) the file, not to
guess another type, and to treat it as a sandboxed, script-less document if it ever shows it.
From a bucket (UPLOADS_STORAGE=s3) the answer is a redirect to a signed URL that expires
after UPLOADS_S3_URL_SECONDS; the signature fixes the download's Content-Disposition,
Content-Type and Cache-Control, and S3 sends no other headers of ours.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

import structlog
from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect

from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment
from bookdesk.core.errors import NotFound

log = structlog.get_logger("bookdesk.attachments")

DOWNLOAD_CSP = "default-src 'none'; sandbox"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name in RFC 6266/5987 form."""
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    ascii_name = "".join(ch for ch in ascii_name if ch.isalnum() or ch in " ._-()") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def signed_redirect(store: Any, attachment: Attachment) -> HttpResponse:
    url = store.url(
        storage.relative_path(attachment.stored_name),
        parameters={
            "ResponseContentDisposition": content_disposition(attachment.display_name),
            "ResponseContentType": attachment.content_type,
            "ResponseCacheControl": "private, no-store",
        },
        expire=settings.UPLOADS_S3_URL_SECONDS,
    )
    response = HttpResponseRedirect(url)
    # The signed URL is a short-lived credential: not cached, not sent on as a Referer.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def download_response(attachment: Attachment) -> HttpResponseBase:
    store = storage.object_store()
    if store is not None:
        return signed_redirect(store, attachment)
    path = storage.path_for(attachment.stored_name)
    prefix = settings.ATTACHMENTS_X_ACCEL_PREFIX
    response: HttpResponseBase
    if prefix:
        # nginx sends the file from its internal location; the app never reads it.
        response = HttpResponse(content_type=attachment.content_type)
        response["X-Accel-Redirect"] = (
            prefix.rstrip("/") + "/" + storage.relative_path(attachment.stored_name)
        )
    else:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            log.error("attachment_file_missing", attachment_id=attachment.pk)
            raise NotFound("The file is missing.") from None
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = content_disposition(attachment.display_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
