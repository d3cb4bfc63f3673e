"""The site's HTML error pages (the API answers its own paths in JSON, api/errors.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def csrf_failure_page(request: HttpRequest) -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


def not_found_page(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error_page(request: HttpRequest) -> HttpResponse:
    # No context processors here: they could fail for the same reason the page did.
    return HttpResponseServerError(loader.get_template("500.html").render())
