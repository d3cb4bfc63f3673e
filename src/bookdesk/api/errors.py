"""One error shape for the whole API: ``{"error": "<code>", "detail": ...}``.

Handlers and the services they call raise domain errors (``bookdesk.core.errors``); this is
the API's one mapping of them to a status (``core/http.py``'s table), ``Retry-After`` and
the JSON shape. Handlers never put a stack trace or an HTML page in an API response.
"""

from __future__ import annotations

import sys

import structlog
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from bookdesk.core import errorpages, pages
from bookdesk.core.errormap import domain_error_for
from bookdesk.core.errors import DomainError
from bookdesk.core.http import status_for, with_retry_after

log = structlog.get_logger("bookdesk.api")

CSRF_DETAIL = "Send the CSRF token from GET /api/v1/auth/csrf in X-CSRFToken."


def error_response(status: int, error: str, detail=None) -> JsonResponse:
    return JsonResponse({"error": error, "detail": detail}, status=status)


def domain_error_response(exc: DomainError) -> JsonResponse:
    response = error_response(status_for(exc), exc.code, exc.detail)
    with_retry_after(response, exc)
    return response


STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def install(api) -> None:
    @api.exception_handler(DomainError)
    def _domain_error(request, exc: DomainError):
        return domain_error_response(exc)

    @api.exception_handler(ValidationError)
    def _validation(request, exc: ValidationError):
        detail = [
            {"loc": list(err.get("loc", [])), "msg": err.get("msg", "invalid value")}
            for err in exc.errors
        ]
        return error_response(422, "invalid", detail)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return error_response(
            401, "unauthorized", "Sign in (with your second factor) or send a token."
        )

    # Django's own exceptions, raised by shortcuts such as get_object_or_404.
    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return error_response(403, "forbidden", str(exc) or "You may not do that.")

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return error_response(404, "not_found", "Not found.")

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        code = STATUS_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc))

    @api.exception_handler(Exception)
    def _unexpected(request, exc):
        mapped = domain_error_for(exc)
        if mapped is not None:
            return domain_error_response(mapped)
        log.exception("api_unhandled_error", path=request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")


# Django's site-wide handlers (settings.CSRF_FAILURE_VIEW, urls.handler404/500): JSON under
# /api/, the HTML pages elsewhere.


def csrf_failure(request, reason: str = "", template_name: str = "403_csrf.html"):
    if request.path.startswith("/api/"):
        return error_response(403, "csrf_failed", CSRF_DETAIL)
    return errorpages.csrf_failure_page(request)


def json_404(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "Not found.")
    return errorpages.not_found_page(request)


def json_500(request):
    # Called while the exception is being handled: one raised by a middleware before any
    # view ran (a session read with the database down) is still translated here.
    mapped = domain_error_for(sys.exc_info()[1]) if sys.exc_info()[1] else None
    if request.path.startswith("/api/"):
        if mapped is not None:
            return domain_error_response(mapped)
        return error_response(500, "internal_error", "Something went wrong on our side.")
    if mapped is not None:
        return pages.error_page(request, mapped)
    return errorpages.server_error_page(request)
