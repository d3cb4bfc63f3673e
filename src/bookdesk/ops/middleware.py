"""Middleware for operations: health answers before host checks, and request ids."""

from __future__ import annotations

import time

import structlog
from django.http import HttpResponse

from bookdesk.ops.requestid import accept_or_make, reset_request_id, set_request_id

log = structlog.get_logger("bookdesk.request")


class HealthMiddleware:
    """Answer /healthz (and /readyz) before ALLOWED_HOSTS is checked.

    A load balancer probes by IP address, which is not an allowed host; liveness must not
    depend on the Host header or on any I/O.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path == "/readyz":
            from bookdesk.ops.readiness import readiness_response

            return readiness_response(request)
        return self.get_response(request)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_make(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = set_request_id(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        log.info(
            "request",
            request_id=request_id,
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
            user_id=user.pk if user is not None and user.is_authenticated else None,
        )
        return response
