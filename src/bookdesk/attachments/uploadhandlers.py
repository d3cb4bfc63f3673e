"""Upload handling that counts bytes as they arrive.

Content-Length is only a claim: a client can send more (chunked, or a lying header), so the
handler counts what really arrives and stops reading once a file passes
ATTACHMENT_MAX_BYTES. The refusal is left on the request (``request.upload_rejected``) for
the view to refuse with a clear message; Django's parser itself would just drop the file.
Uploads spool to a temporary file, never to memory, and that file is removed when the
upload stops or the client goes away mid-body.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from bookdesk.attachments.validation import UploadIncomplete, UploadTooLarge
from bookdesk.core.formatting import format_bytes

# Room for the multipart envelope around one file (boundaries, part headers, CSRF field).
_ENVELOPE_BYTES = 64 * 1024


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"The file is larger than the limit of {format_bytes(limit)}.")


class LimitedUploadHandler(TemporaryFileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.ATTACHMENT_MAX_BYTES
        self.received = 0
        if content_length and content_length > self.limit + _ENVELOPE_BYTES:
            # Announced as too big: answer without reading the body at all.
            self.request.upload_rejected = too_large(self.limit)
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_rejected = too_large(self.limit)
            # Don't read (and discard) the rest of an oversized body.
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)

    def upload_interrupted(self):
        super().upload_interrupted()
        self.request.upload_rejected = UploadIncomplete(
            "The upload ended before the whole file arrived."
        )


def uploaded_file(request, *, missing: str):
    """The uploaded ``file`` field, or the UploadRejected saying what went wrong with the body
    (``missing`` when there is no file at all)."""
    files = request.FILES  # parses the body through LimitedUploadHandler
    rejected = getattr(request, "upload_rejected", None)
    if rejected is not None:
        raise rejected
    upload = files.get("file")
    if upload is None:
        raise UploadIncomplete(missing, code="file_missing")
    return upload
