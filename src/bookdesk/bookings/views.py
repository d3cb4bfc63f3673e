"""Booking pages: home, booking form, availability search, my bookings, detail and cancel.

Views stay thin: a form validates, the page-access helpers authorise, and the services in
bookings.services make every change (and write the audit rows).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookdesk.audit.models import AuditEvent
from bookdesk.bookings import services
from bookdesk.bookings.errors import BookingError
from bookdesk.bookings.forms import (
    AvailabilityForm,
    BookingForm,
    CancelForm,
    DecisionForm,
    MyBookingsFilterForm,
)
from bookdesk.bookings.models import OPEN_STATUSES, Booking
from bookdesk.bookings.page_access import verified_required
from bookdesk.bookings.selectors import booking_get_visible, pending_for_approver
from bookdesk.resources.models import Resource
from bookdesk.resources.selectors import availability, user_may_decide

PAGE_SIZE = 25


@verified_required
def home(request):
    upcoming = (
        Booking.objects.filter(
            requester=request.user, status__in=OPEN_STATUSES, end__gt=timezone.now()
        )
        .select_related("resource")
        .order_by("start", "id")[:10]
    )
    pending_count = pending_for_approver(request.user).count() if request.user.is_approver else 0
    return render(request, "home.html", {"upcoming": upcoming, "pending_count": pending_count})


@verified_required
def my_bookings(request):
    form = MyBookingsFilterForm(request.GET or None)
    bookings = Booking.objects.filter(requester=request.user).select_related("resource")
    status, when = "", "upcoming"
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"]
        when = form.cleaned_data["when"] or "upcoming"
    if status:
        bookings = bookings.filter(status=status)
    now = timezone.now()
    if when == "upcoming":
        bookings = bookings.filter(end__gt=now).order_by("start", "id")
    elif when == "past":
        bookings = bookings.filter(end__lte=now).order_by("-start", "-id")
    else:
        bookings = bookings.order_by("-start", "-id")
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "bookings/my_bookings.html",
        {"form": form, "page": page, "query": query.urlencode(), "when": when},
    )


def _history(booking):
    return AuditEvent.objects.filter(
        target_type=booking._meta.label_lower, target_id=str(booking.pk)
    ).order_by("at", "id")


def _may_cancel(user, booking) -> bool:
    return booking.is_open and (booking.requester_id == user.pk or user.is_admin)


def _detail_context(request, booking, **extra):
    return {
        "booking": booking,
        "history": _history(booking),
        "may_cancel": _may_cancel(request.user, booking),
        "may_decide": booking.status == "pending"
        and user_may_decide(request.user, booking.resource),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
        "decision_form": extra.pop("decision_form", None) or DecisionForm(),
        **extra,
    }


@verified_required
def booking_detail(request, pk: int):
    booking = booking_get_visible(request.user, pk)
    return render(request, "bookings/detail.html", _detail_context(request, booking))


@require_POST
@verified_required
def booking_cancel(request, pk: int):
    booking = booking_get_visible(request.user, pk)
    if not _may_cancel(request.user, booking):
        raise PermissionDenied("Only the requester or an admin may cancel this booking.")
    form = CancelForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, booking, cancel_form=form)
        return render(request, "bookings/detail.html", context, status=422)
    scope = form.cleaned_data["scope"] or "one"
    if scope == "following" and booking.series_id is None:
        scope = "one"
    try:
        services.booking_cancel(booking=booking, actor=request.user, scope=scope, request=request)
    except BookingError as exc:
        booking.refresh_from_db()
        context = _detail_context(request, booking, error=exc.message)
        return render(request, "bookings/detail.html", context, status=exc.status)
    messages.success(request, "The booking is cancelled.")
    return redirect("bookings:detail", pk=booking.pk)


def _initial_from_query(request) -> dict:
    """Prefill the booking form from a calendar or availability link."""
    initial = {}
    raw = request.GET.get("resource", "")
    if raw.isdigit():
        initial["resource"] = int(raw)
    for key in ("start", "end"):
        value = request.GET.get(key, "")
        with contextlib.suppress(ValueError):
            initial[key] = datetime.fromisoformat(value).replace(tzinfo=None)
    if request.GET.get("attendees", "").isdigit():
        initial["attendees"] = int(request.GET["attendees"])
    return initial


@verified_required
def booking_new(request):
    if request.method != "POST":
        form = BookingForm(initial=_initial_from_query(request))
        return render(request, "bookings/book.html", {"form": form})
    form = BookingForm(request.POST)
    if not form.is_valid():
        return render(request, "bookings/book.html", {"form": form}, status=422)
    data = form.cleaned_data
    common = {
        "requester": request.user,
        "resource": data["resource"],
        "start": data["start"],
        "end": data["end"],
        "title": data["title"],
        "purpose": data["purpose"],
        "attendees": data["attendees"],
        "request": request,
    }
    try:
        if data.get("repeat"):
            result = services.booking_request_series(
                **common,
                frequency=data["repeat"],
                count=data.get("count"),
                until=data.get("until"),
                skip_conflicts=data.get("on_conflict") == "skip",
            )
        else:
            booking = services.booking_request(**common)
    except BookingError as exc:
        context = {
            "form": form,
            "error": exc,
            "conflicts": _conflict_texts(exc, data["resource"]),
        }
        return render(request, "bookings/book.html", context, status=exc.status)
    if data.get("repeat"):
        booked, skipped = _series_outcome(result, data["resource"])
        text = f"{len(booked)} occurrence{'s' if len(booked) != 1 else ''} booked."
        if skipped:
            text += f" {len(skipped)} skipped: " + "; ".join(skipped) + "."
        messages.success(request, text)
        if booked:
            return redirect("bookings:detail", pk=booked[0].pk)
        return redirect("bookings:mine")
    if booking.status == "pending":
        messages.success(request, "Your request is waiting for approval.")
    else:
        messages.success(request, "Booked.")
    return redirect("bookings:detail", pk=booking.pk)


def _local_iso(value: str, zone) -> str:
    """An ISO instant from a service's answer, as wall time in the resource's zone."""
    try:
        return f"{datetime.fromisoformat(value).astimezone(zone):%a %d %b %Y %H:%M}"
    except (TypeError, ValueError):
        return str(value)


def _series_outcome(result, resource) -> tuple[list, list[str]]:
    """(booked bookings, skipped occurrences as text) from booking_request_series' result."""
    skipped = [
        f"{_local_iso(item.get('start'), resource.zone)}"
        + (f" ({item['message']})" if item.get("message") else "")
        for item in result.skipped
    ]
    return list(result.bookings), skipped


def _conflict_texts(error, resource) -> list[str]:
    zone = resource.zone
    return [
        f"{_local_iso(c.get('start'), zone)} \u2013 {_local_iso(c.get('end'), zone)}"
        f" ({resource.timezone})"
        for c in getattr(error, "conflicts", None) or []
    ]


@verified_required
def availability_search(request):
    form = AvailabilityForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        results = _free_resources(form.cleaned_data)
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(
        request, "bookings/availability.html", {"form": form, "results": results}, status=status
    )


def _free_resources(data) -> list[dict]:
    """Resources free for the whole asked window, read in each resource's own zone.

    One availability() call per distinct zone among the candidates (a handful in practice).
    """
    candidates = Resource.objects.filter(is_active=True)
    if data.get("capacity"):
        candidates = candidates.filter(capacity__gte=data["capacity"])
    if data.get("kind"):
        candidates = candidates.filter(kind=data["kind"])
    by_zone: dict[str, list[int]] = {}
    for pk, zone in candidates.values_list("pk", "timezone"):
        by_zone.setdefault(zone, []).append(pk)
    found = []
    for zone_name, ids in by_zone.items():
        resource_zone = Resource(timezone=zone_name).zone
        start = datetime.combine(data["date"], data["time_from"], tzinfo=resource_zone)
        end = datetime.combine(data["date"], data["time_to"], tzinfo=resource_zone)
        for item in availability(
            start=start,
            end=end,
            capacity=data.get("capacity"),
            kind=data.get("kind") or None,
            resource_ids=None if len(by_zone) == 1 else ids,
        ):
            if item.is_free:
                found.append(
                    {
                        "resource": item.resource,
                        "start": start,
                        "end": end,
                        "local_start": f"{start:%Y-%m-%dT%H:%M}",
                        "local_end": f"{end:%Y-%m-%dT%H:%M}",
                    }
                )
    found.sort(key=lambda f: (f["resource"].capacity, f["resource"].name))
    return found
