"""/metrics in Prometheus text format, for allowed networks or a bearer token."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django_prometheus.exports import ExportToDjangoView


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:], token):
        return True
    # The direct peer, never X-Forwarded-For: a scrape comes straight to the app.
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request) -> HttpResponse:
    if not _allowed(request):
        return HttpResponseForbidden(
            "metrics are not available from here\n", content_type="text/plain"
        )
    return ExportToDjangoView(request)
