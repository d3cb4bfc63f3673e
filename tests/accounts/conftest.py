"""Fixtures for the sign-in tests: a CSRF-enforcing API client and code extraction."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD


def code_in(message) -> str:
    """The six-digit code in a sign-in email (Django message or email.message)."""
    subject = message.subject if hasattr(message, "subject") else message["Subject"]
    return re.search(r"\b(\d{6})\b", subject).group(1)


class ApiClient:
    """A browser-like API client: gets the CSRF cookie first and sends it back."""

    def __init__(self, **defaults):
        self.client = Client(enforce_csrf_checks=True, **defaults)
        self.client.get("/api/v1/auth/csrf")

    @property
    def csrf(self) -> str:
        return self.client.cookies["csrftoken"].value

    def post(self, path, data=None, *, csrf=True, **extra):
        headers = {"X-CSRFToken": self.csrf} if csrf else {}
        return self.client.post(
            path, data or {}, content_type="application/json", headers=headers, **extra
        )

    def get(self, path, **extra):
        return self.client.get(path, **extra)

    def delete(self, path, **extra):
        return self.client.delete(path, headers={"X-CSRFToken": self.csrf}, **extra)

    def login(self, email, password=PASSWORD, **extra):
        return self.post("/api/v1/auth/login", {"email": email, "password": password}, **extra)

    def otp(self, challenge, code, **extra):
        return self.post("/api/v1/auth/otp", {"challenge": challenge, "code": code}, **extra)

    @property
    def session_key(self) -> str | None:
        cookie = self.client.cookies.get("sessionid")
        return cookie.value if cookie and cookie.value else None


@pytest.fixture
def api(db):
    return ApiClient()


@pytest.fixture
def api_factory(db):
    return ApiClient


@pytest.fixture
def signed_in_api(api, alice, mailoutbox):
    """An API client that went through both steps as Alice."""
    challenge = api.login(alice.email).json()["challenge"]
    response = api.otp(challenge, code_in(mailoutbox[-1]))
    assert response.status_code == 200
    return api
