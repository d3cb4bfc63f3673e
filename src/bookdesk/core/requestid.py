"""The request id: taken from nginx's X-Request-ID or made here, and carried to logs and jobs."""

from __future__ import annotations

import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

log = structlog.get_logger("bookdesk.request")

_request_id: ContextVar[str | None] = ContextVar("bookdesk_request_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def accept_or_make(header_value: str | None) -> str:
    # An id from outside is kept only when it is plain, so it cannot inject into log lines.
    if header_value and _VALID.match(header_value):
        return header_value
    return uuid.uuid4().hex


@contextmanager
def request_id_bound(value: str | None):
    """Run a block (a worker job) under the request id of the request that queued it."""
    token = _request_id.set(value or None)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_make(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
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
