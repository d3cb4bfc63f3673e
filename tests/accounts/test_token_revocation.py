"""A new password ends every API token: after a change, a reset, or an admin setting it.

Regression: tokens made before a password change kept working, so a leaked token outlived
the password its owner changed because of the leak.
"""

from __future__ import annotations

import pytest
from django.test import Client

from bookdesk.accounts.tokens import token_create
from bookdesk.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def bearer_status(raw: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def two_tokens(user) -> list[str]:
    return [token_create(user=user, name=f"script {i}").raw for i in range(2)]


def test_a_password_reset_through_the_pages_revokes_every_token(client, alice):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    raws = two_tokens(alice)
    assert [bearer_status(raw) for raw in raws] == [200, 200]
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    form_page = client.get(f"/accounts/password-reset/{uid}/{token}/", follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content[:300]
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert [bearer_status(raw) for raw in raws] == [401, 401]
    assert AuditEvent.objects.filter(action="token.revoked_all").count() == 1


@pytest.mark.parametrize("how", ["set_password", "reset_form"])
def test_any_new_password_revokes_every_token(alice, dave, how):
    from django.contrib.auth.forms import SetPasswordForm

    raws = two_tokens(alice)
    others = two_tokens(dave)
    if how == "set_password":
        alice.set_password(NEW_PASSWORD)
        alice.save()
    else:
        form = SetPasswordForm(
            alice, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        assert form.is_valid(), form.errors
        form.save()
    assert [bearer_status(raw) for raw in raws] == [401, 401]
    # Nobody else's tokens are touched.
    assert [bearer_status(raw) for raw in others] == [200, 200]


def test_saving_a_user_without_a_new_password_keeps_the_tokens(alice):
    raws = two_tokens(alice)
    alice.full_name = "Alice Renamed"
    alice.save()
    assert [bearer_status(raw) for raw in raws] == [200, 200]


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("days_after", [90, 91, 365])
def test_a_token_stops_working_when_it_expires(alice, settings, days_after):
    from datetime import timedelta

    from django.utils import timezone

    from bookdesk.accounts.models import ApiToken

    settings.API_TOKEN_LIFETIME_DAYS = 90
    new = token_create(user=alice, name="old script")
    assert bearer_status(new.raw) == 200
    created = ApiToken.objects.get(pk=new.token.pk).created_at
    assert new.token.expires_at - created >= timedelta(days=90)
    ApiToken.objects.filter(pk=new.token.pk).update(
        expires_at=timezone.now() - timedelta(days=days_after - 90, seconds=1)
    )
    assert bearer_status(new.raw) == 401


def test_live_tokens_are_listed_with_their_expiry_and_dead_ones_are_not(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    from bookdesk.accounts.models import ApiToken
    from tests.accounts.helpers import signed_in_client

    live, expired = (token_create(user=alice, name=name) for name in ("live one", "expired one"))
    ApiToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    signed_in_client(client, alice)
    listed = client.get("/api/v1/tokens").json()
    assert [t["name"] for t in listed] == ["live one"]
    assert listed[0]["expires_at"]
    page = client.get("/accounts/").content.decode()
    assert "live one" in page and "expired one" not in page
    assert live.token.expires_at.strftime("%Y-%m-%d") in page
