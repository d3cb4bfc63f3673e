"""The booking lifecycle: request, approve, reject, cancel, expire.

pending ──approve──▶ approved ──cancel──▶ cancelled
   │ ├──reject───▶ rejected
   │ ├──cancel───▶ cancelled
   │ └──(start passed)──▶ expired

Every change is one transaction that also writes its audit row and queues its mail (the
outbox rows commit or roll back with the change). Metrics are counted after commit only.

No double booking: a booking that holds its slot is saved inside a savepoint. On
PostgreSQL the exclusion constraint refuses an overlap even between two transactions
that both checked first, and the IntegrityError becomes a BookingConflict naming the
slot. On SQLite the outer transaction starts with BEGIN IMMEDIATE (see config.py), which
serialises writers, so the check just before the insert cannot be overtaken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypedDict

import structlog
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from bookdesk.accounts.models import User
from bookdesk.audit.services import audit_record
from bookdesk.bookings import mail, recurrence
from bookdesk.bookings.errors import (
    BookingConflict,
    BookingRuleViolation,
    InvalidTransition,
    slot,
)
from bookdesk.bookings.models import (
    NO_OVERLAP_CONSTRAINT,
    OPEN_STATUSES,
    Booking,
    BookingSeries,
    BookingStatus,
)
from bookdesk.bookings.rules import check_request_rules
from bookdesk.bookings.selectors import slot_conflicts
from bookdesk.core.errors import DomainError, Forbidden
from bookdesk.core.metrics import BOOKINGS
from bookdesk.resources.models import Resource
from bookdesk.resources.selectors import user_may_decide

log = structlog.get_logger("bookdesk.bookings")

AUTO_REJECT_REASON = "Another request for the same time was approved."


def _close(
    booking: Booking,
    *,
    status: str,
    action: str,
    notify: Callable[..., int],
    actor: User | None = None,
    request: HttpRequest | None = None,
    decision_reason: str | None = None,
    decided_at: datetime | None = None,
    mail_kwargs: dict[str, Any] | None = None,
    **audit: Any,
) -> None:
    """End a booking's hold on its slot (rejected, cancelled, expired): the new state is
    saved, audited and mailed in the caller's transaction. A decision also records who
    decided, when and why."""
    booking.status = status
    booking.holds_slot = False
    if decision_reason is not None:
        booking.decided_by = actor
        booking.decided_at = decided_at or timezone.now()
        booking.decision_reason = decision_reason
    booking.save()
    audit_record(action=action, actor=actor, request=request, target=booking, **audit)
    notify(booking, **(mail_kwargs or {}))


def _count_after_commit(action: str, n: int = 1) -> None:
    if n:
        transaction.on_commit(lambda: BOOKINGS.labels(action=action).inc(n))


def _slot_of(booking: Booking) -> dict[str, Any]:
    return slot(
        resource_id=booking.resource_id,
        start=booking.start,
        end=booking.end,
        booking_id=booking.pk,
        status=booking.status,
    )


def _conflicts_for(booking: Booking) -> list[dict[str, Any]]:
    return [
        _slot_of(other)
        for other in slot_conflicts(
            resource_id=booking.resource_id,
            start=booking.start,
            end=booking.end,
            exclude_pk=booking.pk,
        )[:20]
    ]


def _save_checked(booking: Booking) -> None:
    """Save ``booking``, refusing an overlap with a slot-holding booking (BookingConflict).

    The check applies whether or not ``booking`` holds its slot: a pending request that
    does not hold one still may not ask for a taken slot. For bookings that hold, the
    exclusion constraint (PostgreSQL) catches a race the check cannot see.
    Must run inside an outer transaction.atomic() (the IMMEDIATE one on SQLite).
    """
    clashes = _conflicts_for(booking)
    if clashes:
        raise BookingConflict(clashes)
    try:
        with transaction.atomic():  # a savepoint: the outer transaction stays usable
            booking.save()
    except IntegrityError as exc:
        if NO_OVERLAP_CONSTRAINT not in str(exc):
            raise
        # Another transaction won the race after our check; name the slot it took.
        log.info("booking_conflict_race", resource=booking.resource_id)
        clashes = _conflicts_for(booking) or [
            slot(resource_id=booking.resource_id, start=booking.start, end=booking.end)
        ]
        raise BookingConflict(clashes) from None


def _holds(resource: Resource, status: str) -> bool:
    return status == BookingStatus.APPROVED or (
        status == BookingStatus.PENDING and resource.pending_holds_slot
    )


def user_may_cancel(user: User, booking: Booking) -> bool:
    """The requester or an admin (whether the booking is still open is checked apart)."""
    return bool(user.is_admin or booking.requester_id == user.pk)


def _require_decider(actor: User, booking: Booking) -> None:
    if not user_may_decide(actor, booking.resource):
        raise Forbidden("Only an approver of this resource or an admin may decide.")


def _require_other_approver(actor: User, booking: Booking) -> None:
    # Four eyes: approval is someone else vouching for the request, so nobody approves
    # their own, admins included (another approver or admin does). Withdrawing one's own
    # request stays possible, by rejecting or cancelling it.
    if booking.requester_id == actor.pk:
        raise Forbidden(
            "You may not approve your own request; another approver or an admin decides it.",
            code="own_request",
        )


# --- request ------------------------------------------------------------------------------


def _new_booking(
    *,
    requester: User,
    resource: Resource,
    start: datetime,
    end: datetime,
    title: str,
    purpose: str,
    attendees: int,
    series: BookingSeries | None = None,
) -> Booking:
    status = BookingStatus.PENDING if resource.requires_approval else BookingStatus.APPROVED
    return Booking(
        resource=resource,
        requester=requester,
        start=start,
        end=end,
        title=title.strip(),
        purpose=purpose or "",
        attendees=attendees,
        status=status,
        holds_slot=_holds(resource, status),
        series=series,
    )


def _after_create(
    booking: Booking,
    *,
    requester: User,
    request: HttpRequest | None,
    notify: bool = True,
    **audit: Any,
) -> None:
    audit_record(
        action="booking.requested",
        actor=requester,
        request=request,
        target=booking,
        resource=booking.resource_id,
        start=booking.start.isoformat(),
        end=booking.end.isoformat(),
        status=booking.status,
        **audit,
    )
    _count_after_commit("requested")
    if booking.status == BookingStatus.APPROVED:
        # No approval needed: the request is approved at once.
        audit_record(
            action="booking.approved", actor=None, request=request, target=booking, automatic=True
        )
        _count_after_commit("approved")
        if notify:
            mail.notify_decided(booking)
    elif notify:
        mail.notify_request_received(booking)


def booking_request(
    *,
    requester: User,
    resource: Resource,
    start: datetime,
    end: datetime,
    title: str,
    purpose: str = "",
    attendees: int = 1,
    request: HttpRequest | None = None,
) -> Booking:
    """Request a booking: approved at once when the resource needs no approval, else pending."""
    if not title or not title.strip():
        raise BookingRuleViolation("title", "Give the booking a title.")
    check_request_rules(resource=resource, start=start, end=end, attendees=attendees)
    booking = _new_booking(
        requester=requester,
        resource=resource,
        start=start,
        end=end,
        title=title,
        purpose=purpose,
        attendees=attendees,
    )
    with transaction.atomic():
        _save_checked(booking)
        _after_create(booking, requester=requester, request=request)
    log.info("booking_requested", booking=booking.pk, status=booking.status)
    return booking


@dataclass
class SeriesResult:
    series: BookingSeries
    bookings: list[Booking] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def booking_request_series(
    *,
    requester: User,
    resource: Resource,
    start: datetime,
    end: datetime,
    title: str,
    purpose: str = "",
    attendees: int = 1,
    frequency: str,
    interval: int = 1,
    count: int | None = None,
    until: date | None = None,
    skip_conflicts: bool = False,
    request: HttpRequest | None = None,
) -> SeriesResult:
    """Request a recurring booking.

    All-or-nothing by default: one conflict (or broken rule) and nothing is created; the
    BookingConflict lists every clashing occurrence. With ``skip_conflicts`` the clashing
    occurrences are left out and returned in ``skipped``.
    """
    if not title or not title.strip():
        raise BookingRuleViolation("title", "Give the booking a title.")
    occurrences = recurrence.expand(
        start=start,
        end=end,
        zone=resource.zone,
        frequency=frequency,
        interval=interval,
        count=count,
        until=until,
    )
    skipped: list[dict] = []
    wanted = []
    for occ_start, occ_end in occurrences:
        try:
            check_request_rules(
                resource=resource, start=occ_start, end=occ_end, attendees=attendees
            )
        except BookingRuleViolation as exc:
            if not skip_conflicts:
                raise BookingRuleViolation(
                    exc.rule,
                    f"The occurrence on {occ_start.astimezone(resource.zone):%Y-%m-%d}: "
                    f"{exc.message}",
                    occurrence={"start": occ_start.isoformat(), "end": occ_end.isoformat()},
                ) from None
            skipped.append(
                {
                    "start": occ_start.isoformat(),
                    "end": occ_end.isoformat(),
                    "reason": exc.rule,
                    "message": exc.message,
                }
            )
            continue
        wanted.append((occ_start, occ_end))

    created: list[Booking] = []
    conflicts: list[dict] = []
    with transaction.atomic():
        _lock_resource(resource.pk)
        series = BookingSeries.objects.create(
            resource=resource,
            requester=requester,
            frequency=frequency,
            interval=interval,
            count=count,
            until=until,
        )
        for occ_start, occ_end in wanted:
            booking = _new_booking(
                requester=requester,
                resource=resource,
                start=occ_start,
                end=occ_end,
                title=title,
                purpose=purpose,
                attendees=attendees,
                series=series,
            )
            try:
                _save_checked(booking)
            except BookingConflict as exc:
                if skip_conflicts:
                    skipped.append(
                        {
                            "start": occ_start.isoformat(),
                            "end": occ_end.isoformat(),
                            "reason": "conflict",
                            "message": exc.message,
                            "conflicts": exc.conflicts,
                        }
                    )
                else:
                    conflicts.extend(exc.conflicts)
                continue
            created.append(booking)
        if conflicts:
            raise BookingConflict(
                conflicts,
                f"{len(conflicts)} occurrence(s) clash with existing bookings; nothing was booked.",
            )
        if not created:
            clashes = [c for s in skipped for c in s.get("conflicts", [])]
            if not clashes:
                raise BookingRuleViolation(
                    "recurrence",
                    "Every occurrence breaks a rule; nothing was booked.",
                    skipped=skipped,
                )
            raise BookingConflict(clashes, "Every occurrence was skipped; nothing was booked.")
        for index, booking in enumerate(created):
            # One mail per series, not per occurrence: the first one stands for the rest.
            _after_create(
                booking, requester=requester, request=request, notify=index == 0, series=series.pk
            )
    return SeriesResult(series=series, bookings=created, skipped=skipped)


# --- decisions ----------------------------------------------------------------------------


def _lock_resource(resource_id: int) -> None:
    """Serialise the transactions that change several slot-holding bookings of a resource.

    Approving (one booking gains its slot, overlapping requests are rejected) and creating
    a series (several inserts) touch more than one row; two such transactions on the same
    resource could each wait on the other's row or exclusion check, a deadlock. Taking the
    resource's row lock first gives them one order. Single requests do not take it.
    """
    Resource.objects.select_for_update().filter(pk=resource_id).values_list("pk").first()


def _locked(booking: Booking) -> Booking:
    """Re-read the booking under a row lock (PostgreSQL); SQLite's IMMEDIATE lock suffices."""
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("resource", "requester")
        .get(pk=booking.pk)
    )


def booking_approve(
    *, booking: Booking, actor: User, request: HttpRequest | None = None
) -> Booking:
    """Approve a pending request; overlapping pending requests are rejected with it."""
    with transaction.atomic():
        _lock_resource(booking.resource_id)
        booking = _locked(booking)
        _require_decider(actor, booking)
        _require_other_approver(actor, booking)
        if booking.status != BookingStatus.PENDING:
            raise InvalidTransition(
                f"Only pending requests can be approved; this one is {booking.status}.",
                status_now=booking.status,
            )
        if booking.start <= timezone.now():
            raise InvalidTransition(
                "This request's start has passed; it can no longer be approved.",
                status_now=booking.status,
            )
        booking.status = BookingStatus.APPROVED
        booking.holds_slot = True
        booking.decided_by = actor
        booking.decided_at = timezone.now()
        booking.decision_reason = ""
        _save_checked(booking)
        audit_record(action="booking.approved", actor=actor, request=request, target=booking)
        mail.notify_decided(booking)
        losers = list(
            Booking.objects.select_for_update(of=("self",))
            .select_related("resource", "requester")
            .filter(
                resource_id=booking.resource_id,
                status=BookingStatus.PENDING,
                start__lt=booking.end,
                end__gt=booking.start,
            )
            .exclude(pk=booking.pk)
        )
        for loser in losers:
            _close(
                loser,
                status=BookingStatus.REJECTED,
                action="booking.rejected",
                notify=mail.notify_auto_rejected,
                actor=actor,
                request=request,
                decision_reason=AUTO_REJECT_REASON,
                decided_at=booking.decided_at,
                reason=AUTO_REJECT_REASON,
                automatic=True,
                approved_booking=booking.pk,
            )
        _count_after_commit("approved")
        _count_after_commit("rejected", len(losers))
    booking.auto_rejected = losers
    return booking


def booking_reject(
    *, booking: Booking, actor: User, reason: str, request: HttpRequest | None = None
) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        raise BookingRuleViolation("reason_required", "Say why the request is rejected.")
    with transaction.atomic():
        booking = _locked(booking)
        _require_decider(actor, booking)
        if booking.status != BookingStatus.PENDING:
            raise InvalidTransition(
                f"Only pending requests can be rejected; this one is {booking.status}.",
                status_now=booking.status,
            )
        _close(
            booking,
            status=BookingStatus.REJECTED,
            action="booking.rejected",
            notify=mail.notify_decided,
            actor=actor,
            request=request,
            decision_reason=reason,
            reason=reason,
        )
        _count_after_commit("rejected")
    return booking


class DecisionResult(TypedDict, total=False):
    id: int
    ok: bool
    status: str
    error: str
    message: str


def booking_decide(
    *,
    booking: Booking,
    action: str,
    actor: User,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Booking:
    """Approve or reject one request (``action`` is "approve" or "reject")."""
    if action == "approve":
        return booking_approve(booking=booking, actor=actor, request=request)
    if action == "reject":
        return booking_reject(booking=booking, actor=actor, reason=reason, request=request)
    raise BookingRuleViolation("action", "The action is approve or reject.")


def bookings_decide(
    *,
    ids: list[int],
    action: str,
    actor: User,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[DecisionResult]:
    """Approve or reject many requests, each on its own; returns one result per id."""
    if action not in {"approve", "reject"}:
        raise BookingRuleViolation("action", "The action is approve or reject.")
    if action == "reject" and not (reason or "").strip():
        raise BookingRuleViolation("reason_required", "Say why the requests are rejected.")
    found = Booking.objects.in_bulk(list(ids))
    results: list[DecisionResult] = []
    for pk in dict.fromkeys(ids):  # keep order, drop repeats
        booking = found.get(pk)
        if booking is None:
            results.append({"id": pk, "ok": False, "error": "not_found", "message": "Not found."})
            continue
        try:
            booking = booking_decide(
                booking=booking, action=action, actor=actor, reason=reason, request=request
            )
        except DomainError as exc:
            results.append({"id": pk, "ok": False, "error": exc.code, "message": exc.message})
        else:
            results.append({"id": pk, "ok": True, "status": booking.status})
    return results


# --- cancel and expire --------------------------------------------------------------------


def booking_cancel(
    *, booking: Booking, actor: User, scope: str = "one", request: HttpRequest | None = None
) -> Booking:
    """Cancel a pending or approved booking (requester or admin).

    ``scope="following"`` also cancels the open occurrences after it in the same series.
    The cancelled bookings are on the result as ``.cancelled`` (the booking itself first).
    """
    if scope not in {"one", "following"}:
        raise BookingRuleViolation("scope", "The scope is one or following.")
    with transaction.atomic():
        booking = _locked(booking)
        if not user_may_cancel(actor, booking):
            raise Forbidden("Only the requester or an admin may cancel a booking.")
        if booking.status not in OPEN_STATUSES:
            raise InvalidTransition(
                f"Only pending or approved bookings can be cancelled; this one is "
                f"{booking.status}.",
                status_now=booking.status,
            )
        targets = [booking]
        if scope == "following" and booking.series_id:
            targets += list(
                Booking.objects.select_for_update(of=("self",))
                .select_related("resource", "requester")
                .filter(
                    series_id=booking.series_id,
                    start__gt=booking.start,
                    status__in=OPEN_STATUSES,
                )
                .order_by("start")
            )
        for target in targets:
            previous = target.status
            _close(
                target,
                status=BookingStatus.CANCELLED,
                action="booking.cancelled",
                notify=mail.notify_cancelled,
                actor=actor,
                request=request,
                mail_kwargs={"was_approved": previous == BookingStatus.APPROVED},
                previous=previous,
                scope=scope,
            )
        _count_after_commit("cancelled", len(targets))
    booking.cancelled = targets
    return booking


def bookings_expire_stale(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire pending requests whose start has passed; returns how many. Periodic task."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            stale = list(
                Booking.objects.select_for_update(skip_locked=True)
                .filter(status=BookingStatus.PENDING, start__lte=now)
                .order_by("start")[:batch]
            )
            for booking in stale:
                _close(
                    booking,
                    status=BookingStatus.EXPIRED,
                    action="booking.expired",
                    notify=mail.notify_auto_rejected,
                )
        total += len(stale)
        if len(stale) < batch:
            break
    if total:
        log.info("bookings_expired", count=total)
    return total
