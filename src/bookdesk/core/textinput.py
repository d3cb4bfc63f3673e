"""Refuse a NUL character (or a lone surrogate) anywhere in a request's text, before any
view reads it.

PostgreSQL cannot store U+0000 in text (the driver raises), SQLite stores it as is, and no
person types one: it is always a probe or a broken client. A lone surrogate (JSON's
``"\ud800"``) is not text at all: neither database can encode it. Checking every field of every
form, schema and filter would leave the next new field unguarded, so this middleware
reads each request's text once, where it enters: the path, the query string, cookies,
urlencoded form fields and JSON bodies (keys and strings at any depth). Uploaded files
are bytes and may hold NULs; the text fields of a multipart form are read by Django forms,
whose CharField refuses NUL itself (ProhibitNullCharactersValidator).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse

from bookdesk.core import errors
from bookdesk.core.errormap import domain_error_for
from bookdesk.core.http import status_for, with_retry_after
from bookdesk.core.pages import error_page

# U+0000 and the surrogate code points, which only appear alone (a pair decodes to one).
REFUSED = re.compile("[\x00\ud800-\udfff]")


class InvalidCharacter(errors.BadRequest):
    code = "invalid_character"
    message = (
        "The request contains a NUL character (U+0000) or a lone surrogate, which no field accepts."
    )


def _refused(text: str) -> bool:
    return REFUSED.search(text) is not None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _refused(value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _querydict_has_nul(query) -> bool:
    return any(_refused(key) or any(_refused(v) for v in values) for key, values in query.lists())


def request_has_nul(request: HttpRequest) -> bool:
    if _refused(request.path) or _querydict_has_nul(request.GET):
        return True
    if any(_refused(k) or _refused(v) for k, v in request.COOKIES.items()):
        return True
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if content_type == "application/x-www-form-urlencoded":
        return _querydict_has_nul(request.POST)
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            document = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return False  # malformed: the API's parser answers 400 for it
        return _has_nul(document)
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refused = request_has_nul(request)
        except (RequestDataTooBig, TooManyFieldsSent) as exc:
            return _answer(request, exc)
        if refused:
            return _answer(request, InvalidCharacter())
        return self.get_response(request)


def _answer(request: HttpRequest, exc: Exception):
    mapped = domain_error_for(exc)
    assert mapped is not None
    if request.path.startswith("/api/"):
        # The API's error shape (api/errors.py sits above core, so it is not imported).
        response = JsonResponse(
            {"error": mapped.code, "detail": mapped.detail}, status=status_for(mapped)
        )
        return with_retry_after(response, mapped)
    return error_page(request, mapped)
