"""Resource management pages for admins: list, create, edit (hours, approvers) and blackouts."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.core.access import admin_required
from bookdesk.core.errors import Invalid
from bookdesk.resources import services
from bookdesk.resources.forms import BlackoutForm, ResourceForm
from bookdesk.resources.models import Blackout, Resource

UTC = zoneinfo.ZoneInfo("UTC")


def _apply_errors(form, exc: Invalid) -> None:
    """Show the service's field errors on the form fields of the same name."""
    for field, errors in exc.detail.items():
        form.add_error(field if field in form.fields else None, errors)


@admin_required
def resource_list(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    resources = Resource.objects.annotate(
        hours=Count("opening_hours", distinct=True),
        groups=Count("approver_groups", distinct=True),
    ).order_by("-is_active", "name")
    return render(request, "resources/list.html", {"resources": resources})


@admin_required
def resource_new(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.resource_create(
                actor=request.user, request=request, **form.service_arguments()
            )
        except Invalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"{resource.name} is created.")
            return redirect("resources:edit", pk=resource.pk)
    status = 422 if form.is_bound else 200
    return render(request, "resources/form.html", {"form": form, "resource": None}, status=status)


def _upcoming_blackouts(resource):
    return Blackout.objects.filter(
        Q(resource=resource) if resource else Q(resource__isnull=True), end__gt=timezone.now()
    ).order_by("start")


def _edit_page(request, resource, form, blackout_form, status=200):
    context = {
        "resource": resource,
        "form": form,
        "blackouts": _upcoming_blackouts(resource),
        "blackout_form": blackout_form,
    }
    return render(request, "resources/form.html", context, status=status)


@admin_required
def resource_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    resource = get_object_or_404(Resource, pk=pk)
    blackout_form = BlackoutForm(zone=resource.zone)
    if request.method != "POST":
        return _edit_page(request, resource, ResourceForm(resource=resource), blackout_form)
    form = ResourceForm(request.POST, resource=resource)
    if form.is_valid():
        try:
            services.resource_update(
                resource=resource, actor=request.user, request=request, **form.service_arguments()
            )
        except Invalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("resources:edit", pk=resource.pk)
    return _edit_page(request, resource, form, blackout_form, status=422)


@admin_required
def blackouts(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponseBase:
    """Add a blackout: for one resource (from its edit page) or for all (its own page)."""
    resource = get_object_or_404(Resource, pk=pk) if pk is not None else None
    zone = resource.zone if resource else UTC
    form = BlackoutForm(request.POST or None, zone=zone)
    if request.method == "POST" and form.is_valid():
        try:
            services.blackout_create(
                actor=request.user,
                resource=resource,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except Invalid as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Blackout added.")
            if resource:
                return redirect("resources:edit", pk=resource.pk)
            return redirect("resources:blackouts")
    status = 422 if form.is_bound else 200
    if resource:
        return _edit_page(request, resource, ResourceForm(resource=resource), form, status)
    context = {"blackouts": _upcoming_blackouts(None), "blackout_form": form}
    return render(request, "resources/blackouts.html", context, status=status)


@require_POST
@admin_required
def blackout_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    blackout = get_object_or_404(Blackout, pk=pk)
    resource_id = blackout.resource_id
    services.blackout_delete(actor=request.user, blackout=blackout, request=request)
    messages.success(request, "Blackout removed.")
    if resource_id:
        return redirect("resources:edit", pk=resource_id)
    return redirect("resources:blackouts")
