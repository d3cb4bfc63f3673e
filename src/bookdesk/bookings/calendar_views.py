"""The calendar page (day / week / month, one resource or all) and its JSON event feed."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.bookings.calendar import (
    MAX_ENTRIES,
    MAX_WINDOW,
    VIEWS,
    entries_in_window,
    feed_item,
    parse_floating,
    window_for,
    zone_of,
)
from bookdesk.core.access import verified_required
from bookdesk.resources.models import Resource


def _selected_resource(request):
    raw = request.GET.get("resource", "")
    if raw.isdigit():
        return Resource.objects.filter(pk=int(raw), is_active=True).first()
    return None


def _anchor(request, resource) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        zone = zone_of(resource) if resource else timezone.get_current_timezone()
        return timezone.localtime(timezone.now(), zone).date()


@verified_required
def calendar_page(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    resource = _selected_resource(request)
    view = request.GET.get("view", "week")
    window = window_for(view if view in VIEWS else "week", _anchor(request, resource))
    entries, truncated = entries_in_window(
        request.user, window.start, window.end, resource, limit=MAX_ENTRIES
    )
    zones = sorted({e.zone for e in entries} | ({zone_of(resource).key} if resource else set()))
    return render(
        request,
        "bookings/calendar.html",
        {
            "resources": Resource.objects.filter(is_active=True).order_by("name"),
            "resource": resource,
            "window": window,
            "entries": entries,
            "truncated": truncated,
            "views": [(key, label) for key, (_fc, label) in VIEWS.items()],
            "zones": zones,
            "prev_date": window.shifted(-1).isoformat(),
            "next_date": window.shifted(1).isoformat(),
            "today": timezone.localdate().isoformat(),
            "calendar_options": {
                "initialView": VIEWS[window.view][0],
                "initialDate": window.anchor.isoformat(),
                "feedUrl": reverse("bookings:calendar_feed"),
                "bookUrl": reverse("bookings:book"),
                "resource": resource.pk if resource else None,
            },
        },
    )


@verified_required
def calendar_feed(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Events for FullCalendar: open bookings overlapping [start, end) in local wall time."""
    start = parse_floating(request.GET.get("start"))
    end = parse_floating(request.GET.get("end"))
    if start is None or end is None or end <= start or end - start > MAX_WINDOW:
        return JsonResponse(
            {"error": "invalid", "detail": "start and end must be ISO dates at most 62 days apart"},
            status=400,
        )
    resource = _selected_resource(request)
    entries, _truncated = entries_in_window(request.user, start, end, resource, limit=MAX_ENTRIES)
    return JsonResponse([feed_item(e) for e in entries], safe=False)
