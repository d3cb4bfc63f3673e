"""The booking emails: one small function per message.

Each only writes outbox rows, inside the caller's transaction; `bookdesk worker` sends them.
Times are given in the resource's zone, with the zone named, because requester, approver
and resource may be in different places.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from bookdesk.bookings.ics import booking_ics, resource_zone
from bookdesk.notifications.services import enqueue_email

ICS_MIMETYPE = "text/calendar"


def _local(moment: datetime, booking) -> datetime:
    zone = resource_zone(booking.resource)
    return moment.astimezone(zone or UTC)


def format_when(booking) -> str:
    """``Tuesday 1 December 2026, 14:00 to 16:00 (Europe/Berlin)``."""
    start, end = _local(booking.start, booking), _local(booking.end, booking)
    zone_name = booking.resource.timezone if resource_zone(booking.resource) else "UTC"
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if start.date() == end.date():
        return f"{day}, {start:%H:%M} to {end:%H:%M} ({zone_name})"
    end_day = f"{end:%A} {end.day} {end:%B %Y}"
    return f"{day} {start:%H:%M} to {end_day} {end:%H:%M} ({zone_name})"


def _site_link(name: str, fallback: str, **kwargs) -> str:
    try:
        path = reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        path = fallback
    return f"{settings.SITE_URL}{path}"


def booking_url(booking) -> str:
    return _site_link("bookings:detail", f"/bookings/{booking.pk}/", pk=booking.pk)


def _context(booking, **extra) -> dict:
    requester = booking.requester
    decided_by = getattr(booking, "decided_by", None)
    return {
        "booking": booking,
        "resource": booking.resource,
        "title": booking.title or booking.resource.name,
        "when": format_when(booking),
        "requester_name": requester.get_full_name(),
        "requester_email": requester.email,
        "decided_by_name": decided_by.get_full_name() if decided_by is not None else "",
        "reason": getattr(booking, "decision_reason", "") or "",
        "url": booking_url(booking),
        "approvals_url": _site_link("bookings:inbox", "/approvals/"),
        "site_url": settings.SITE_URL,
        **extra,
    }


def _ics_attachment(booking, *, cancelled: bool) -> dict:
    return {
        "filename": "booking.ics",
        "mimetype": ICS_MIMETYPE,
        "content": booking_ics(booking, url=booking_url(booking), cancelled=cancelled).decode(),
    }


def _approvers(booking):
    from bookdesk.resources.selectors import approvers_for

    return [user for user in approvers_for(booking.resource) if user.email and user.is_active]


def notify_request_received(booking) -> int:
    """A new request waits for a decision: one message to each approver of the resource."""
    count = 0
    for approver in _approvers(booking):
        enqueue_email(
            kind="booking_requested",
            to=approver.email,
            template="booking-requested",
            context=_context(booking, recipient_name=approver.get_full_name()),
            dedupe_key=f"booking:{booking.pk}:requested:{approver.pk}",
        )
        count += 1
    return count


def notify_decided(booking) -> int:
    """Approved or rejected: to the requester; an approval carries the .ics."""
    approved = booking.status == "approved"
    enqueue_email(
        kind="booking_approved" if approved else "booking_rejected",
        to=booking.requester.email,
        template="booking-approved" if approved else "booking-rejected",
        context=_context(booking),
        attachments=[_ics_attachment(booking, cancelled=False)] if approved else (),
        dedupe_key=f"booking:{booking.pk}:{booking.status}",
    )
    return 1


def notify_cancelled(booking, *, was_approved: bool | None = None) -> int:
    """To the requester and, when the booking had been approved, to the approvers too.

    ``was_approved`` defaults to whether the booking carries a decision (decided_at).
    """
    if was_approved is None:
        was_approved = getattr(booking, "decided_at", None) is not None
    attachments = [_ics_attachment(booking, cancelled=True)] if was_approved else []
    recipients = [booking.requester]
    if was_approved:
        recipients += [user for user in _approvers(booking) if user.pk != booking.requester.pk]
    for user in recipients:
        enqueue_email(
            kind="booking_cancelled",
            to=user.email,
            template="booking-cancelled",
            context=_context(
                booking,
                recipient_name=user.get_full_name(),
                is_requester=user.pk == booking.requester.pk,
                was_approved=was_approved,
            ),
            attachments=attachments,
            dedupe_key=f"booking:{booking.pk}:cancelled:{user.pk}",
        )
    return len(recipients)


def notify_auto_rejected(booking) -> int:
    """Rejected or expired without a person deciding: to the requester, with the reason."""
    enqueue_email(
        kind="booking_auto_rejected",
        to=booking.requester.email,
        template="booking-auto-rejected",
        context=_context(booking, expired=booking.status == "expired"),
        dedupe_key=f"booking:{booking.pk}:auto:{booking.status}",
    )
    return 1
