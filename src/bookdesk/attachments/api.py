"""Attachments in the JSON API: upload, list, download, delete."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from bookdesk.attachments import selectors, services
from bookdesk.attachments.serving import download_response
from bookdesk.attachments.uploadhandlers import uploaded_file

router = Router(tags=["attachments"])


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    uploaded_by: str
    created_at: datetime
    url: str


def _out(attachment) -> dict:
    return {
        "id": attachment.pk,
        "name": attachment.display_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "sha256": attachment.sha256,
        "uploaded_by": attachment.uploaded_by.email,
        "created_at": attachment.created_at,
        "url": f"/api/v1/attachments/{attachment.pk}",
    }


_MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/bookings/{booking_id}/attachments",
    response={201: AttachmentOut},
    summary="Attach a file (multipart field 'file') to a booking",
    description="PDF, PNG, JPEG, UTF-8 text, DOCX, XLSX or ODT, decided from the content. "
    "413 over the size, count or quota limits; 415 for other types (and polyglots or "
    "macro-enabled documents); 422 for empty or truncated files.",
    openapi_extra=_MULTIPART_BODY,
)
def upload_attachment(request, booking_id: int):
    booking = selectors.booking_get_for_attachments(request.user, booking_id)
    services.require_may_upload(request.user, booking)
    upload = uploaded_file(
        request, missing="Send the file as multipart/form-data in a field named 'file'."
    )
    attachment = services.attachment_add(
        booking=booking, uploaded_by=request.user, upload=upload, request=request
    )
    return 201, _out(attachment)


@router.get(
    "/bookings/{booking_id}/attachments",
    response=list[AttachmentOut],
    summary="A booking's attachments",
)
def list_attachments(request, booking_id: int):
    booking = selectors.booking_get_for_attachments(request.user, booking_id)
    return [_out(a) for a in selectors.attachments_of(booking).select_related("uploaded_by")]


@router.get("/attachments/{attachment_id}", summary="Download an attachment")
def download_attachment(request, attachment_id: int):
    attachment = selectors.attachment_get_visible(request.user, attachment_id)
    response = download_response(attachment)
    services.attachment_record_download(attachment=attachment, actor=request.user, request=request)
    return response


@router.delete("/attachments/{attachment_id}", response={204: None}, summary="Delete")
def delete_attachment(request, attachment_id: int):
    attachment = selectors.attachment_get_visible(request.user, attachment_id)
    services.attachment_delete(attachment=attachment, actor=request.user, request=request)
    return 204, None
