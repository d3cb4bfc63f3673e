"""Reads: who may see, add or remove a booking's attachments, and the attachments themselves.

Anything a user may not see is NotFound, so its existence does not leak.
"""

from __future__ import annotations

from django.db.models import QuerySet

from bookdesk.accounts.types import AnyUser
from bookdesk.attachments.models import Attachment
from bookdesk.bookings.models import Booking
from bookdesk.core.errors import NotFound
from bookdesk.resources.selectors import approvers_for


def user_may_upload(user: AnyUser, booking: Booking) -> bool:
    """The booking's requester or an admin (who may also delete)."""
    return bool(user.is_authenticated and (user.is_admin or booking.requester_id == user.pk))


def user_may_download(user: AnyUser, booking: Booking) -> bool:
    """Requester, the resource's approvers and admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin or booking.requester_id == user.pk:
        return True
    return approvers_for(booking.resource).filter(pk=user.pk).exists()


def booking_get_for_attachments(user: AnyUser, booking_id: int) -> Booking:
    """The booking, if ``user`` may see its attachments (requester, approvers, admins)."""
    booking = Booking.objects.select_related("resource").filter(pk=booking_id).first()
    if booking is None or not user_may_download(user, booking):
        raise NotFound("No such booking.")
    return booking


def attachment_get_visible(user: AnyUser, attachment_id: int) -> Attachment:
    attachment = (
        Attachment.objects.select_related("booking__resource").filter(pk=attachment_id).first()
    )
    if attachment is None or not user_may_download(user, attachment.booking):
        raise NotFound("No such attachment.")
    return attachment


def attachments_of(booking: Booking) -> QuerySet[Attachment]:
    return Attachment.objects.filter(booking=booking).order_by("created_at", "id")
