"""Password reset by email: the same answer for every address, Django's validators on."""

from __future__ import annotations

import re

import pytest

from bookdesk.notifications.models import OutboxMessage
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

SENT = "If the address has an account, we sent a link to reset its password."


def _ask(client, email):
    return client.post("/accounts/password-reset/", {"email": email}, follow=True)


def _link(message: OutboxMessage) -> str:
    return re.search(r"http://\S+/accounts/password-reset/\S+/\S+/", message.text).group(0)


def test_a_known_address_gets_a_link_through_the_outbox(client, alice, settings):
    response = _ask(client, alice.email)

    assert SENT in response.content.decode()
    [message] = OutboxMessage.objects.filter(kind="password_reset")
    assert message.to == [alice.email]
    assert _link(message).startswith(settings.SITE_URL)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, alice):
    known = _ask(client, alice.email)
    unknown = _ask(client, "nobody@example.com")

    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain
    assert SENT in unknown.content.decode()
    assert OutboxMessage.objects.filter(kind="password_reset").count() == 1


def test_the_link_comes_from_site_url_not_the_host_header(client, alice, settings):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    client.post("/accounts/password-reset/", {"email": alice.email}, HTTP_HOST="evil.example")

    message = OutboxMessage.objects.get(kind="password_reset")
    assert "evil.example" not in message.text


def test_asking_again_at_once_sends_nothing_new(client, alice):
    _ask(client, alice.email)
    _ask(client, alice.email)

    assert OutboxMessage.objects.filter(kind="password_reset").count() == 1


def test_a_weak_new_password_is_refused(client, alice):
    _ask(client, alice.email)
    form_url = client.get(_link(OutboxMessage.objects.get()), follow=True).redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short" in html
    assert "This password is too common" in html
    alice.refresh_from_db()
    assert alice.check_password("correct horse battery staple")


def test_a_good_new_password_works_once_and_signs_in(client, alice, api, mailoutbox):
    _ask(client, alice.email)
    link = _link(OutboxMessage.objects.get())
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "plum orchard lighthouse 42"

    response = client.post(form_url, {"new_password1": new, "new_password2": new}, follow=True)

    assert "Your password is changed" in response.content.decode()
    assert "This link has expired or was already used" in (
        client.get(link, follow=True).content.decode()
    )
    login = api.login(alice.email, new)
    assert login.status_code == 200
    assert api.otp(login.json()["challenge"], code_in(mailoutbox[0])).status_code == 200
