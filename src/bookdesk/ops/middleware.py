"""Health answers before host checks (request ids are core/requestid.py's)."""

from __future__ import annotations

from django.http import HttpResponse


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
