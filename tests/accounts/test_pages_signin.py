"""The sign-in pages: password, then code (with resend), then home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from bookdesk.accounts.models import SignInChallenge
from tests.accounts.conftest import code_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

GENERIC = "Those details don&#x27;t match an account."


def _password_step(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"email": email, "password": password}, **extra)


def test_the_sign_in_page_has_labelled_fields(client, db):
    html = client.get("/accounts/login/").content.decode()

    assert '<label for="id_email">Email address</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html


def test_password_then_code_lands_on_the_home_page(client, alice, mailoutbox):
    response = _password_step(client, alice.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/"

    response = client.post("/accounts/login/code/", {"code": code_in(mailoutbox[0])})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/accounts/").status_code == 200


def test_the_code_page_asks_for_a_one_time_code(client, alice, mailoutbox):
    _password_step(client, alice.email)

    html = client.get("/accounts/login/code/").content.decode()

    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert '<label for="id_code">Sign-in code</label>' in html
    assert 'aria-live="polite"' in html
    assert 'value="resend"' in html
    assert "a…@example.com" in html


def test_the_code_page_without_a_password_step_sends_back(client, db):
    response = client.get("/accounts/login/code/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


@pytest.mark.parametrize("email,password", [("alice@example.com", "wrong"), ("no@x.org", "x")])
def test_bad_details_get_one_generic_error_summary(client, alice, email, password):
    response = _password_step(client, email, password)

    html = response.content.decode()
    assert response.status_code == 200
    assert GENERIC in html
    assert 'role="alert"' in html
    assert "There is a problem" in html


def test_a_locked_account_looks_like_a_wrong_password_on_the_page(client, alice, settings):
    settings.LOCKOUT_THRESHOLD = 2
    wrong = [_password_step(client, alice.email, "wrong") for _ in range(2)]

    locked = _password_step(client, alice.email)

    assert locked.status_code == wrong[0].status_code
    assert GENERIC in locked.content.decode()


def test_a_wrong_code_is_linked_from_the_error_summary(client, alice, mailoutbox):
    _password_step(client, alice.email)
    wrong = f"{(int(code_in(mailoutbox[0])) + 1) % 10**6:06d}"

    response = client.post("/accounts/login/code/", {"code": wrong})

    html = response.content.decode()
    assert '<a href="#id_code">That code is not right.' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_code_error id_code_helptext"' in html


def test_the_resend_button_sends_a_new_code_after_the_cooldown(client, alice, mailoutbox):
    _password_step(client, alice.email)
    SignInChallenge.objects.update(code_sent_at=timezone.now() - timedelta(minutes=2))

    response = client.post("/accounts/login/code/", {"action": "resend"})

    assert response.status_code == 200
    assert "We sent a new code" in response.content.decode()
    assert len(mailoutbox) == 2
    assert client.post("/accounts/login/code/", {"code": code_in(mailoutbox[1])}).status_code == 302


def test_resend_too_soon_says_to_wait(client, alice, mailoutbox):
    _password_step(client, alice.email)

    response = client.post("/accounts/login/code/", {"action": "resend"})

    assert response.status_code == 429
    assert "Wait a minute" in response.content.decode()
    assert len(mailoutbox) == 1


def test_the_page_flow_changes_the_session_key_at_each_step(client, alice, mailoutbox):
    client.get("/accounts/login/")
    client.session.save()
    first = client.cookies["sessionid"].value
    _password_step(client, alice.email)
    second = client.cookies["sessionid"].value
    client.post("/accounts/login/code/", {"code": code_in(mailoutbox[0])})
    third = client.cookies["sessionid"].value

    assert len({first, second, third}) == 3
    assert not Session.objects.filter(session_key__in=[first, second]).exists()


def test_next_is_followed_only_within_the_site(client, alice, mailoutbox):
    _password_step(client, alice.email, HTTP_HOST="testserver")
    client.post("/accounts/login/?next=https://evil.example/", {})
    response = client.post(
        "/accounts/login/code/?next=https://evil.example/", {"code": code_in(mailoutbox[0])}
    )

    assert response["Location"] == "/"


def test_next_inside_the_site_is_followed(client, alice, mailoutbox):
    response = client.post(
        "/accounts/login/",
        {"email": alice.email, "password": PASSWORD, "next": "/accounts/"},
    )
    assert response["Location"] == "/accounts/login/code/?next=%2Faccounts%2F"

    response = client.post(response["Location"], {"code": code_in(mailoutbox[0])})

    assert response["Location"] == "/accounts/"


def test_a_throttled_address_gets_429_with_retry_after_on_the_page(client, alice, settings):
    settings.LOCKOUT_IP_THRESHOLD = 2
    for i in range(2):
        _password_step(client, f"x{i}@example.com", "wrong")

    response = _password_step(client, alice.email)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()


def test_the_sign_in_endpoints_are_in_the_openapi_schema(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in ("/api/v1/auth/login", "/api/v1/auth/otp", "/api/v1/me", "/api/v1/tokens"):
        assert path in paths
