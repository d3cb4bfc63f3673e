"""Adding and removing attachments: validate, store atomically, record, audit."""

from __future__ import annotations

from typing import BinaryIO, cast

import structlog
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest

from bookdesk.accounts.models import User
from bookdesk.accounts.types import AnyUser
from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment
from bookdesk.attachments.selectors import user_may_upload
from bookdesk.attachments.validation import UploadTooLarge, detect_type
from bookdesk.audit.services import audit_record
from bookdesk.bookings.models import Booking
from bookdesk.core.errors import Forbidden
from bookdesk.core.formatting import format_bytes

log = structlog.get_logger("bookdesk.attachments")


def require_may_upload(user: AnyUser, booking: Booking) -> None:
    """Refuse a user who may not add to (or remove from) the booking's attachments.

    attachment_add and attachment_delete check this themselves; the upload adapters also
    call it first, so a refused upload's body is never read.
    """
    if not user_may_upload(user, booking):
        raise Forbidden("Only the booking's requester or an admin may add or remove its files.")


def attachment_add(
    *,
    booking: Booking,
    uploaded_by: User,
    upload: UploadedFile,
    request: HttpRequest | None = None,
) -> Attachment:
    """Validate ``upload`` (a Django UploadedFile), store it and record it on ``booking``.

    Raises Forbidden, or UploadRejected (too large, unsupported, broken) with a message for
    the user. The count and quota
    are checked again under a lock on the booking row, after the bytes are safely on disk,
    so two parallel uploads cannot both squeeze under the limit; a refused upload's file is
    removed again.
    """
    require_may_upload(uploaded_by, booking)
    # Django's upload handlers always set both (the stubs allow None for hand-made files);
    # the file is opened in binary mode.
    assert upload.file is not None and upload.size is not None
    fileobj = cast(BinaryIO, upload.file)
    _check_limits(booking=booking, user=uploaded_by, size=upload.size)
    detected = detect_type(fileobj)
    display_name = storage.sanitize_display_name(upload.name, extension=detected.extension)
    stored = storage.store_file(fileobj)
    try:
        with transaction.atomic():
            type(booking).objects.select_for_update().filter(pk=booking.pk).first()
            _check_limits(booking=booking, user=uploaded_by, size=stored.size)
            attachment = Attachment.objects.create(
                booking=booking,
                uploaded_by=uploaded_by,
                stored_name=stored.stored_name,
                display_name=display_name,
                content_type=detected.content_type,
                size=stored.size,
                sha256=stored.sha256,
            )
            audit_record(
                action="attachment.uploaded",
                actor=uploaded_by,
                request=request,
                target=attachment,
                booking_id=booking.pk,
                name=display_name,
                size=stored.size,
                content_type=detected.content_type,
                sha256=stored.sha256,
            )
    except BaseException:
        storage.delete_file(stored.stored_name)
        raise
    return attachment


def _check_limits(*, booking: Booking, user: User, size: int) -> None:
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise UploadTooLarge(
            f"The file is larger than the limit of {format_bytes(settings.ATTACHMENT_MAX_BYTES)}."
        )
    limit = settings.ATTACHMENT_MAX_PER_BOOKING
    if Attachment.objects.filter(booking=booking).count() >= limit:
        raise UploadTooLarge(
            f"This booking already has {limit} attachments, the most allowed; "
            "delete one before adding another.",
            code="too_many_attachments",
        )
    quota = settings.ATTACHMENT_USER_QUOTA_BYTES
    used = Attachment.objects.filter(uploaded_by=user).aggregate(total=Sum("size"))["total"] or 0
    if used + size > quota:
        raise UploadTooLarge(
            f"Your attachments would use more than your quota of {format_bytes(quota)} "
            f"({format_bytes(used)} used); delete some first.",
            code="quota_exceeded",
        )


def attachment_delete(
    *, attachment: Attachment, actor: User, request: HttpRequest | None = None
) -> None:
    """Remove the row and, once that is committed, the file."""
    require_may_upload(actor, attachment.booking)
    with transaction.atomic():
        audit_record(
            action="attachment.deleted",
            actor=actor,
            request=request,
            target=attachment,
            booking_id=attachment.booking_id,
            name=attachment.display_name,
            sha256=attachment.sha256,
        )
        # The file goes once this is committed (signals.remove_file_after_delete).
        attachment.delete()


def attachment_record_download(
    *, attachment: Attachment, actor: User, request: HttpRequest | None = None
) -> None:
    audit_record(
        action="attachment.downloaded",
        actor=actor,
        request=request,
        target=attachment,
        booking_id=attachment.booking_id,
        name=attachment.display_name,
    )
