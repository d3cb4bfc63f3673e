"""Readiness in the IETF health-check format. The observability work fills in the checks."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


def readiness_response(request):
    body = {"status": "pass", "releaseId": f"{settings.VERSION}+{settings.COMMIT}"}
    return JsonResponse(body, content_type="application/health+json")
