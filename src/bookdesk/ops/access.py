"""Who may read operator detail (/metrics, the checks in /readyz): one rule for both."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings

from bookdesk.core.clientip import client_ip


def operator_caller(request) -> bool:
    """True for a client in METRICS_ALLOWED_NETWORKS or a request bearing METRICS_TOKEN.

    The address is the client's as `client_ip` sees it: REMOTE_ADDR, unless that is one of
    TRUSTED_PROXIES, in which case the nearest untrusted hop of X-Forwarded-For. So a header
    written by the client opens nothing, and a public request relayed by nginx on loopback
    is judged by its real origin, not by nginx's loopback address.
    """
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    bearer = header[7:] if header.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)
