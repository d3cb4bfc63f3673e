"""Reads: which bookings and attachments a user may see. Anything else is a 404."""

from __future__ import annotations

from django.http import Http404

from bookdesk.attachments.models import Attachment
from bookdesk.attachments.services import user_may_download


def booking_get_for_attachments(user, booking_id: int):
    """The booking, if ``user`` may see its attachments (requester, approvers, admins)."""
    from bookdesk.bookings.models import Booking

    booking = Booking.objects.select_related("resource").filter(pk=booking_id).first()
    if booking is None or not user_may_download(user, booking):
        raise Http404("No such booking.")
    return booking


def attachment_get_visible(user, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.select_related("booking__resource").filter(pk=attachment_id).first()
    )
    if attachment is None or not user_may_download(user, attachment.booking):
        raise Http404("No such attachment.")
    return attachment


def attachments_of(booking):
    return Attachment.objects.filter(booking=booking).order_by("created_at", "id")


def attachments_used_bytes(user) -> int:
    from django.db.models import Sum

    return Attachment.objects.filter(uploaded_by=user).aggregate(t=Sum("size"))["t"] or 0
