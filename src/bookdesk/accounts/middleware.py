"""Absolute session lifetime: a session ends a fixed time after sign-in, however active."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

SESSION_STARTED_KEY = "bookdesk_auth_started_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = request.session.get(SESSION_STARTED_KEY)
        if started is not None and time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT:
            logout(request)
        return self.get_response(request)
