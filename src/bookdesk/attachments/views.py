"""HTML side of attachments: the booking page's upload form, downloads and deletes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.attachments import selectors, services
from bookdesk.attachments.serving import download_response
from bookdesk.attachments.uploadhandlers import uploaded_file
from bookdesk.attachments.validation import UploadRejected
from bookdesk.core.access import verified_required


@csrf_exempt  # checked below, once our upload handler is in place (see docstring)
@require_POST
@verified_required
def upload(request: AuthenticatedHttpRequest, booking_id: int) -> HttpResponseBase:
    """The CSRF check reads the body; exempting the view and protecting the inner function
    is Django's documented way to let the size-counting upload handler see the body first
    (it is installed in settings, so this is belt and braces)."""
    return _upload(request, booking_id)


@csrf_protect
def _upload(request, booking_id: int):
    booking = selectors.booking_get_for_attachments(request.user, booking_id)
    services.require_may_upload(request.user, booking)
    try:
        upload_file = uploaded_file(request, missing="Choose a file to attach.")
        attachment = services.attachment_add(
            booking=booking, uploaded_by=request.user, upload=upload_file, request=request
        )
    except UploadRejected as exc:
        messages.error(request, f"The file was not attached: {exc.message}")
    else:
        messages.success(request, f"Attached {attachment.display_name}.")
    return redirect("bookings:detail", pk=booking.pk)


@require_GET
@verified_required
def download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    attachment = selectors.attachment_get_visible(request.user, pk)
    response = download_response(attachment)
    services.attachment_record_download(attachment=attachment, actor=request.user, request=request)
    return response


@require_POST
@verified_required
def delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    attachment = selectors.attachment_get_visible(request.user, pk)
    booking_id = attachment.booking_id
    name = attachment.display_name
    services.attachment_delete(attachment=attachment, actor=request.user, request=request)
    messages.success(request, f"Deleted {name}.")
    return redirect("bookings:detail", pk=booking_id)
