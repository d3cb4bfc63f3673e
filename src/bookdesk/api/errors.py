"""One error shape for the whole API: ``{"error": "<code>", "detail": ...}``.

Handlers never put a stack trace or an HTML page in an API response.
"""

from __future__ import annotations

import structlog
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from ninja.errors import AuthenticationError, HttpError, ValidationError

log = structlog.get_logger("bookdesk.api")


class ApiError(Exception):
    """Raise from a handler or service call site to answer with a given status and code."""

    def __init__(self, status: int, error: str, detail=None, headers: dict | None = None):
        super().__init__(detail or error)
        self.status = status
        self.error = error
        self.detail = detail if detail is not None else error.replace("_", " ")
        self.headers = headers or {}


def error_response(status: int, error: str, detail=None, headers: dict | None = None):
    response = JsonResponse({"error": error, "detail": detail}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
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
    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

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
        log.exception("api_unhandled_error", path=request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")


def csrf_failure(request, reason: str = "", template_name: str = "403_csrf.html"):
    if request.path.startswith("/api/"):
        return error_response(
            403, "csrf_failed", "Send the CSRF token from GET /api/v1/auth/csrf in X-CSRFToken."
        )
    return render(request, "403_csrf.html", status=403)


def json_404(request, exception=None):
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def json_500(request):
    if request.path.startswith("/api/"):
        return error_response(500, "internal_error", "Something went wrong on our side.")
    # No context processors here: they could fail for the same reason the page did.
    return HttpResponseServerError(loader.get_template("500.html").render())
