"""Reads about bookings: what a user may see, the approvals inbox and its conflicts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import BigIntegerField, F, Func, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from bookdesk.accounts.models import User
from bookdesk.accounts.types import AnyUser
from bookdesk.bookings.models import OPEN_STATUSES, Booking, BookingStatus
from bookdesk.core.errors import NotFound
from bookdesk.resources.selectors import resources_approvable_by


def bookings_visible_to(user: AnyUser) -> QuerySet[Booking]:
    """Own bookings, plus those of resources the user approves; admins see all."""
    qs = Booking.objects.select_related("resource", "requester", "decided_by")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin:
        return qs
    return qs.filter(Q(requester=user) | Q(resource__in=resources_approvable_by(user)))


def booking_get_visible(user: AnyUser, pk: int | str) -> Booking:
    """The booking if ``user`` may see it; otherwise NotFound, so its existence does not leak."""
    try:
        return bookings_visible_to(user).get(pk=pk)
    except (Booking.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such booking.") from None


def bookings_upcoming_for(user: User) -> QuerySet[Booking]:
    """The user's own open bookings that have not ended, soonest first."""
    return (
        Booking.objects.filter(requester=user, status__in=OPEN_STATUSES, end__gt=timezone.now())
        .select_related("resource")
        .order_by("start", "id")
    )


def bookings_of_requester(
    user: User, *, status: str = "", when: str = "upcoming"
) -> QuerySet[Booking]:
    """The user's own bookings: ``when`` is upcoming (soonest first), past or all (latest
    first); ``status`` narrows to one state."""
    qs = Booking.objects.filter(requester=user).select_related("resource")
    if status:
        qs = qs.filter(status=status)
    now = timezone.now()
    if when == "upcoming":
        return qs.filter(end__gt=now).order_by("start", "id")
    if when == "past":
        qs = qs.filter(end__lte=now)
    return qs.order_by("-start", "-id")


def bookings_list(
    user: User,
    *,
    mine: bool = False,
    status: str | None = None,
    resource: int | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
) -> QuerySet[Booking]:
    """Visible bookings filtered; ``from``/``to`` select bookings overlapping that window."""
    qs = bookings_visible_to(user)
    if mine:
        qs = qs.filter(requester=user)
    if status:
        qs = qs.filter(status=status)
    if resource:
        qs = qs.filter(resource_id=resource)
    if start_from:
        qs = qs.filter(end__gt=start_from)
    if start_to:
        qs = qs.filter(start__lt=start_to)
    return qs.order_by("start", "id")


def pending_for_approver(user: User) -> QuerySet[Booking]:
    """Pending requests for the resources ``user`` decides, oldest request first."""
    return (
        Booking.objects.select_related("resource", "requester")
        .filter(status=BookingStatus.PENDING, resource__in=resources_approvable_by(user))
        .order_by("created_at", "id")
    )


def with_conflicts(bookings: Iterable[Booking]) -> list[Booking]:
    """Attach ``.conflicts`` (other open bookings overlapping each one) in one query."""
    rows = list(bookings)
    if not rows:
        return rows
    lo = min(b.start for b in rows)
    hi = max(b.end for b in rows)
    others: dict[int, list[Booking]] = defaultdict(list)
    for other in Booking.objects.select_related("requester").filter(
        resource_id__in={b.resource_id for b in rows},
        status__in=OPEN_STATUSES,
        start__lt=hi,
        end__gt=lo,
    ):
        others[other.resource_id].append(other)
    for booking in rows:
        booking.conflicts = [
            o
            for o in others[booking.resource_id]
            if o.pk != booking.pk and o.start < booking.end and o.end > booking.start
        ]
    return rows


def slot_conflicts(
    *, resource_id: int, start: datetime, end: datetime, exclude_pk: int | None = None
) -> QuerySet[Booking]:
    """Bookings holding a slot on the resource that overlap [start, end)."""
    qs = Booking.objects.filter(holds_slot=True)
    if connection.vendor == "postgresql":
        # The same range test as the exclusion constraint, so its GiST index answers it;
        # start/end comparisons would walk every earlier booking of the resource.
        from django.contrib.postgres.fields import DateTimeRangeField

        span = Func(
            F("start"),
            F("end"),
            Value("[)"),
            function="tstzrange",
            output_field=DateTimeRangeField(),
        )
        # btree_gist has no int4 = int8 operator: without the cast the index cannot use
        # the resource column and PostgreSQL scans far more of it.
        resource = Cast(Value(resource_id), output_field=BigIntegerField())
        qs = qs.alias(span=span).filter(resource_id=resource, span__overlap=(start, end))
    else:
        qs = qs.filter(resource_id=resource_id, start__lt=end, end__gt=start)
    qs = qs.order_by("start")
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs
