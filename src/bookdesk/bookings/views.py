"""Booking pages: home, booking form, availability search, my bookings, detail and cancel.

Views stay thin: a form validates, the page-access helpers authorise, and the services in
bookings.services make every change (and write the audit rows).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.audit.selectors import history_of
from bookdesk.bookings import services
from bookdesk.bookings.availability import free_resources
from bookdesk.bookings.forms import (
    AvailabilityForm,
    BookingForm,
    CancelForm,
    DecisionForm,
    MyBookingsFilterForm,
)
from bookdesk.bookings.selectors import (
    booking_get_visible,
    bookings_of_requester,
    bookings_upcoming_for,
    pending_for_approver,
)
from bookdesk.core.access import verified_required
from bookdesk.core.errors import DomainError
from bookdesk.core.pages import page_status
from bookdesk.resources.selectors import user_may_decide

PAGE_SIZE = 25


@verified_required
def home(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    upcoming = bookings_upcoming_for(request.user)[:10]
    pending_count = pending_for_approver(request.user).count() if request.user.is_approver else 0
    return render(request, "home.html", {"upcoming": upcoming, "pending_count": pending_count})


@verified_required
def my_bookings(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = MyBookingsFilterForm(request.GET or None)
    status, when = "", "upcoming"
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"]
        when = form.cleaned_data["when"] or "upcoming"
    bookings = bookings_of_requester(request.user, status=status, when=when)
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "bookings/my_bookings.html",
        {"form": form, "page": page, "query": query.urlencode(), "when": when},
    )


def detail_page(request, booking, *, status: int = 200, **extra):
    """The booking's page; the buttons offered follow the services' own rules."""
    context = {
        "booking": booking,
        "history": history_of(booking),
        "may_cancel": booking.is_open and services.user_may_cancel(request.user, booking),
        "may_decide": booking.status == "pending"
        and user_may_decide(request.user, booking.resource),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(),
        "decision_form": extra.pop("decision_form", None) or DecisionForm(),
        **extra,
    }
    return render(request, "bookings/detail.html", context, status=status)


@verified_required
def booking_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    return detail_page(request, booking_get_visible(request.user, pk))


@require_POST
@verified_required
def booking_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    booking = booking_get_visible(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return detail_page(request, booking, status=422, cancel_form=form)
    scope = form.cleaned_data["scope"] or "one"
    if scope == "following" and booking.series_id is None:
        scope = "one"
    try:
        services.booking_cancel(booking=booking, actor=request.user, scope=scope, request=request)
    except DomainError as exc:
        booking.refresh_from_db()
        return detail_page(request, booking, status=page_status(exc), error=exc.message)
    messages.success(request, "The booking is cancelled.")
    return redirect("bookings:detail", pk=booking.pk)


def _initial_from_query(request) -> dict:
    """Prefill the booking form from a calendar or availability link."""
    initial: dict[str, int | datetime] = {}
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
def booking_new(request: AuthenticatedHttpRequest) -> HttpResponseBase:
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
    except DomainError as exc:
        context = {
            "form": form,
            "error": exc,
            "conflicts": _conflict_texts(exc, data["resource"]),
        }
        return render(request, "bookings/book.html", context, status=page_status(exc))
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
def availability_search(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = AvailabilityForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        results = free_resources(
            day=data["date"],
            time_from=data["time_from"],
            time_to=data["time_to"],
            capacity=data.get("capacity"),
            kind=data.get("kind") or None,
        )
    status = 422 if form.is_bound and not form.is_valid() else 200
    return render(
        request, "bookings/availability.html", {"form": form, "results": results}, status=status
    )
