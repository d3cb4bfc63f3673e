"""Adding and removing attachments: validate, store atomically, record, audit."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment
from bookdesk.attachments.uploadhandlers import format_bytes
from bookdesk.attachments.validation import UploadRejected, detect_type
from bookdesk.audit.services import audit_record

log = structlog.get_logger("bookdesk.attachments")


def attachment_add(*, booking, uploaded_by, upload, request=None) -> Attachment:
    """Validate ``upload`` (a Django UploadedFile), store it and record it on ``booking``.

    Raises UploadRejected (413/415/422) with a message for the user. The count and quota
    are checked again under a lock on the booking row, after the bytes are safely on disk,
    so two parallel uploads cannot both squeeze under the limit; a refused upload's file is
    removed again.
    """
    _check_limits(booking=booking, user=uploaded_by, size=upload.size)
    detected = detect_type(upload.file)
    display_name = storage.sanitize_display_name(upload.name, extension=detected.extension)
    stored = storage.store_file(upload.file)
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


def _check_limits(*, booking, user, size: int) -> None:
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise UploadRejected(
            413,
            "too_large",
            f"The file is larger than the limit of {format_bytes(settings.ATTACHMENT_MAX_BYTES)}.",
        )
    limit = settings.ATTACHMENT_MAX_PER_BOOKING
    if Attachment.objects.filter(booking=booking).count() >= limit:
        raise UploadRejected(
            413,
            "too_many_attachments",
            f"This booking already has {limit} attachments, the most allowed; "
            "delete one before adding another.",
        )
    quota = settings.ATTACHMENT_USER_QUOTA_BYTES
    used = Attachment.objects.filter(uploaded_by=user).aggregate(total=Sum("size"))["total"] or 0
    if used + size > quota:
        raise UploadRejected(
            413,
            "quota_exceeded",
            f"Your attachments would use more than your quota of {format_bytes(quota)} "
            f"({format_bytes(used)} used); delete some first.",
        )


def attachment_delete(*, attachment: Attachment, actor, request=None) -> None:
    """Remove the row and, once that is committed, the file."""
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


def attachment_record_download(*, attachment: Attachment, actor, request=None) -> None:
    audit_record(
        action="attachment.downloaded",
        actor=actor,
        request=request,
        target=attachment,
        booking_id=attachment.booking_id,
        name=attachment.display_name,
    )


def user_may_upload(user, booking) -> bool:
    return bool(user.is_authenticated and (user.is_admin or booking.requester_id == user.pk))


def user_may_delete(user, attachment: Attachment) -> bool:
    return user_may_upload(user, attachment.booking)


def user_may_download(user, booking) -> bool:
    """Requester, the resource's approvers and admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin or booking.requester_id == user.pk:
        return True
    from bookdesk.resources.selectors import approvers_for

    return approvers_for(booking.resource).filter(pk=user.pk).exists()
