"""Domain errors on the HTML pages: the status a page answers with, and the error page.

A page that can show the error beside its form catches the DomainError itself and renders
with ``page_status(exc)``; anything it does not catch reaches ``DomainErrorMiddleware``,
which answers with the site's error page for that status and the error's message.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template import loader

from bookdesk.core import errors
from bookdesk.core.errormap import DatabaseUnavailable, domain_error_for
from bookdesk.core.http import status_for, with_retry_after


def page_status(exc: errors.DomainError) -> int:
    """The status of a page showing ``exc``.

    Wrong credentials or a wrong code re-show the sign-in form: that page is answered
    with 200, as browsers expect for a form to correct (401 would ask for HTTP auth).
    """
    if isinstance(exc, errors.NotAuthenticated):
        return 200
    return status_for(exc)


def error_page(request: HttpRequest, exc: errors.DomainError) -> HttpResponseBase:
    status = page_status(exc)
    if isinstance(exc, DatabaseUnavailable):
        # A standalone page, no context processors: the signed-in user, the menu and the
        # session all need the database that just failed.
        body = loader.get_template("503.html").render({"exception": exc.message})
        return with_retry_after(HttpResponse(body, status=503), exc)
    template = {403: "403.html", 404: "404.html"}.get(status, "error.html")
    response = render(
        request, template, {"exception": exc.message, "status": status}, status=status
    )
    return with_retry_after(response, exc)


class DomainErrorMiddleware:
    """The pages' one mapping of an uncaught DomainError to an error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if request.path.startswith("/api/"):
            return None
        mapped = domain_error_for(exc)
        if mapped is not None:
            return error_page(request, mapped)
        return None
