"""The account page: enrol an authenticator app (TOTP) and manage API tokens."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookdesk.accounts.models import ApiToken
from tests.accounts.conftest import code_in
from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def totp_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def test_the_account_page_needs_a_verified_session(client, alice):
    client.force_login(alice)

    response = client.get("/accounts/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_offers_a_qr_code_and_the_key_for_manual_entry(client, alice):
    signed_in_client(client, alice)

    html = client.get("/accounts/").content.decode()

    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', html).group(1)
    assert '<svg role="img"' in html and "QR code for alice@example.com" in html
    assert secret and len(secret) >= 32
    assert device.config_url.split("secret=")[1].startswith(secret)


def test_a_right_code_enrols_the_app(client, alice):
    signed_in_client(client, alice)
    client.get("/accounts/")
    device = TOTPDevice.objects.get(user=alice)

    response = client.post("/accounts/", {"action": "totp_confirm", "totp-code": totp_now(device)})

    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=alice).confirmed is True
    assert (
        "Sign-in asks for a code from your authenticator app"
        in client.get("/accounts/").content.decode()
    )


def test_a_wrong_code_does_not_enrol_the_app(client, alice):
    signed_in_client(client, alice)
    client.get("/accounts/")
    device = TOTPDevice.objects.get(user=alice)
    wrong = f"{(int(totp_now(device)) + 1) % 10**6:06d}"

    response = client.post("/accounts/", {"action": "totp_confirm", "totp-code": wrong})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert TOTPDevice.objects.get(user=alice).confirmed is False


def test_with_an_app_enrolled_sign_in_asks_for_its_code_instead_of_email(api, alice, mailoutbox):
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)

    login = api.login(alice.email)

    assert login.json()["method"] == "totp"
    assert mailoutbox == []
    response = api.otp(login.json()["challenge"], totp_now(device))
    assert response.status_code == 200
    assert api.get("/api/v1/me").wsgi_request.user.otp_device == device


def test_a_wrong_app_code_fails(api, alice, settings):
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    challenge = api.login(alice.email).json()["challenge"]
    wrong = f"{(int(totp_now(device)) + 1) % 10**6:06d}"

    response = api.otp(challenge, wrong)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_code"


def test_an_app_enrolled_session_is_verified_for_the_admin(client, carol, mailoutbox):
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    client.post(
        "/accounts/login/", {"email": carol.email, "password": "correct horse battery staple"}
    )
    client.post("/accounts/login/code/", {"code": totp_now(device)})

    assert client.get("/admin/").status_code == 200


def test_the_email_code_session_is_verified_for_the_admin(client, carol, mailoutbox):
    client.post(
        "/accounts/login/", {"email": carol.email, "password": "correct horse battery staple"}
    )
    client.post("/accounts/login/code/", {"code": code_in(mailoutbox[0])})

    assert client.get("/admin/").status_code == 200


def test_removing_the_app_goes_back_to_email_codes(client, alice, api, mailoutbox):
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    signed_in_client(client, alice)

    client.post("/accounts/", {"action": "totp_remove"})

    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert api.login(alice.email).json()["method"] == "email"


def test_a_new_token_is_shown_once(client, alice):
    signed_in_client(client, alice)

    response = client.post("/accounts/", {"action": "token_create", "token-name": "laptop"})
    first = client.get("/accounts/").content.decode()
    second = client.get("/accounts/").content.decode()

    assert response.status_code == 302
    raw = re.search(r'<code class="api-token">(bd_[\w-]+)</code>', first).group(1)
    assert raw not in second
    assert "laptop" in second
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_a_token_can_be_revoked_from_the_page(client, alice):
    signed_in_client(client, alice)
    client.post("/accounts/", {"action": "token_create", "token-name": "laptop"})
    token = ApiToken.objects.get()

    client.post("/accounts/", {"action": "token_revoke", "token_id": token.pk})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "You have no API tokens." in client.get("/accounts/").content.decode()
