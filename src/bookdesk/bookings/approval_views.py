"""The approvals inbox, and deciding one request from its detail page."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.bookings import services
from bookdesk.bookings.forms import DecisionForm
from bookdesk.bookings.selectors import booking_get_visible, pending_for_approver, with_conflicts
from bookdesk.bookings.views import detail_page
from bookdesk.core.access import approver_required, verified_required
from bookdesk.core.errors import DomainError
from bookdesk.core.pages import page_status

INBOX_PAGE_SIZE = 50


@approver_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    pending = pending_for_approver(request.user)
    form = DecisionForm(request.POST or None)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("booking") if v.isdigit()]
        if not ids:
            form.add_error(None, "Choose at least one request.")
        if form.is_valid():
            # Only requests still pending and within this approver's remit are offered.
            titles = dict(pending.filter(pk__in=ids).values_list("pk", "title"))
            results = services.bookings_decide(
                ids=list(titles),
                action=form.cleaned_data["decision"],
                actor=request.user,
                reason=form.cleaned_data["reason"].strip(),
                request=request,
            )
            decided = sum(1 for result in results if result["ok"])
            errors = [
                f"“{titles[result['id']]}”: {result['message']}"
                for result in results
                if not result["ok"]
            ]
            if errors:
                # Each was pending a moment ago: what stopped it is the state it is in now.
                status = 409
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
def booking_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    booking = booking_get_visible(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return detail_page(request, booking, status=422, decision_form=form)
    try:
        services.booking_decide(
            booking=booking,
            action=form.cleaned_data["decision"],
            actor=request.user,
            reason=form.cleaned_data["reason"].strip(),
            request=request,
        )
    except DomainError as exc:
        booking.refresh_from_db()
        return detail_page(
            request, booking, status=page_status(exc), decision_form=form, error=exc.message
        )
    booking.refresh_from_db()
    messages.success(request, f"The request is {booking.get_status_display().lower()}.")
    return redirect("bookings:detail", pk=booking.pk)
