"""Session lifetime: idle timeout, absolute lifetime, logout, and production cookies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from bookdesk.accounts.middleware import SESSION_STARTED_KEY
from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_the_session_ends_after_the_idle_timeout(client, alice):
    signed_in_client(client, alice)
    assert client.get("/api/v1/me").status_code == 200
    Session.objects.filter(pk=_session_row(client).pk).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert client.get("/api/v1/me").status_code == 401


def test_activity_pushes_the_idle_timeout_forward(client, alice, settings):
    signed_in_client(client, alice)
    row = _session_row(client)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(seconds=30))

    assert client.get("/api/v1/me").status_code == 200

    remaining = _session_row(client).expire_date - timezone.now()
    assert remaining > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_the_idle_timeout_defaults_to_30_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_the_session_ends_after_the_absolute_lifetime_however_active(client, alice, settings):
    signed_in_client(client, alice)
    session = client.session
    session[SESSION_STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_TIMEOUT - 1
    session.save()

    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/accounts/").status_code == 302


def test_the_session_lives_until_the_absolute_lifetime(client, alice, settings):
    signed_in_client(client, alice)
    session = client.session
    session[SESSION_STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_TIMEOUT + 60
    session.save()

    assert client.get("/api/v1/me").status_code == 200


def test_the_absolute_lifetime_defaults_to_12_hours(settings):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60


def test_the_absolute_clock_starts_at_the_password_step(api, alice, mailoutbox):
    from tests.accounts.conftest import code_in

    before = time.time()
    challenge = api.login(alice.email).json()["challenge"]
    started = api.client.session[SESSION_STARTED_KEY]
    api.otp(challenge, code_in(mailoutbox[0]))

    assert before <= started <= time.time()
    assert api.client.session[SESSION_STARTED_KEY] == started


def test_page_logout_ends_the_session_on_the_server(client, alice):
    signed_in_client(client, alice)
    old_key = client.cookies["sessionid"].value

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old_key).exists()
    client.cookies["sessionid"] = old_key
    assert client.get("/api/v1/me").status_code == 401


def test_logout_by_get_is_refused(client, alice):
    signed_in_client(client, alice)

    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/api/v1/me").status_code == 200
