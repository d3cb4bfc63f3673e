"""The approvals inbox, and deciding one request from its detail page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bookdesk.bookings import services
from bookdesk.bookings.errors import BookingError
from bookdesk.bookings.forms import DecisionForm
from bookdesk.bookings.page_access import approver_required, verified_required
from bookdesk.bookings.selectors import booking_get_visible, pending_for_approver, with_conflicts
from bookdesk.bookings.views import _detail_context
from bookdesk.resources.selectors import user_may_decide

INBOX_PAGE_SIZE = 50


def _decide(request, booking, form) -> None:
    """Apply one decision; raises BookingError when the booking cannot take it."""
    if form.cleaned_data["decision"] == "approve":
        services.booking_approve(booking=booking, actor=request.user, request=request)
    else:
        services.booking_reject(
            booking=booking,
            actor=request.user,
            reason=form.cleaned_data["reason"].strip(),
            request=request,
        )


@approver_required
def inbox(request):
    pending = pending_for_approver(request.user)
    form = DecisionForm(request.POST or None)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("booking") if v.isdigit()]
        if not ids:
            form.add_error(None, "Choose at least one request.")
        if form.is_valid():
            decided = 0
            # Only requests still pending and within this approver's remit can be decided.
            for booking in pending.filter(pk__in=ids):
                try:
                    _decide(request, booking, form)
                    decided += 1
                except BookingError as exc:
                    errors.append(f"“{booking.title}”: {exc.message}")
                    status = exc.status
            if decided and not errors:
                verb = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
                messages.success(request, f"{decided} request{'s' if decided != 1 else ''} {verb}.")
                return redirect("bookings:inbox")
            if decided:
                messages.success(request, f"{decided} decided; the others could not be.")
        else:
            status = 422
    page = Paginator(pending, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "bookings/inbox.html",
        {
            "pending": with_conflicts(page.object_list),
            "page": page,
            "query": "",
            "form": form,
            "errors": errors,
            "chosen": set(request.POST.getlist("booking")),
        },
        status=status,
    )


@require_POST
@verified_required
def booking_decide(request, pk: int):
    booking = booking_get_visible(request.user, pk)
    if not user_may_decide(request.user, booking.resource):
        raise PermissionDenied("Only an approver of this resource may decide.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, booking, decision_form=form)
        return render(request, "bookings/detail.html", context, status=422)
    try:
        _decide(request, booking, form)
    except BookingError as exc:
        booking.refresh_from_db()
        context = _detail_context(request, booking, decision_form=form, error=exc.message)
        return render(request, "bookings/detail.html", context, status=exc.status)
    booking.refresh_from_db()
    messages.success(request, f"The request is {booking.get_status_display().lower()}.")
    return redirect("bookings:detail", pk=booking.pk)
