"""GET /me and API tokens: created from a verified session, shown once, used as Bearer."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from bookdesk.accounts.models import ApiToken
from bookdesk.accounts.tokens import token_create, user_for_token
from tests.accounts.helpers import signed_in_client

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def test_me_returns_the_signed_in_user(signed_in_api, alice):
    response = signed_in_api.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "email": "alice@example.com",
        "full_name": "Alice Requester",
        "role": "requester",
    }


def test_me_without_sign_in_is_401_json(db):
    response = Client().get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_a_session_without_the_second_factor_is_not_enough(client, alice):
    client.force_login(alice)

    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/tokens", {"name": "x"}, "application/json").status_code == 401


def test_a_verified_session_creates_a_token_shown_once(signed_in_api, alice):
    response = signed_in_api.post("/api/v1/tokens", {"name": "reporting"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "token"}
    assert body["name"] == "reporting"
    listed = signed_in_api.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert body["token"] not in str(listed)


def test_the_token_is_stored_only_as_a_hash(alice):
    new = token_create(user=alice, name="script")

    row = ApiToken.objects.get()
    assert new.raw not in str(row.__dict__.values())
    assert row.token_hash == hashlib.sha256(new.raw.encode()).hexdigest()


def test_session_api_writes_need_the_csrf_token(signed_in_api):
    response = signed_in_api.post("/api/v1/tokens", {"name": "x"}, csrf=False)

    assert response.status_code == 403
    assert response.json()["error"] in {"csrf_failed", "forbidden", "unauthorized"}
    assert ApiToken.objects.count() == 0


def test_a_bearer_token_authenticates_without_csrf(alice):
    raw = token_create(user=alice, name="script").raw
    client = Client(enforce_csrf_checks=True)

    response = client.get("/api/v1/me", headers=_bearer(raw))
    delete = client.delete(f"/api/v1/tokens/{ApiToken.objects.get().pk}", headers=_bearer(raw))

    assert response.status_code == 200
    assert response.json()["email"] == alice.email
    assert delete.status_code == 204


def test_a_token_cannot_create_tokens(alice):
    raw = token_create(user=alice, name="script").raw

    response = Client().post(
        "/api/v1/tokens", {"name": "more"}, "application/json", headers=_bearer(raw)
    )

    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_a_revoked_token_stops_working(signed_in_api, alice):
    created = signed_in_api.post("/api/v1/tokens", {"name": "laptop"}).json()

    revoke = signed_in_api.delete(f"/api/v1/tokens/{created['id']}")

    assert revoke.status_code == 204
    assert Client().get("/api/v1/me", headers=_bearer(created["token"])).status_code == 401
    assert signed_in_api.get("/api/v1/tokens").json() == []


def test_nobody_revokes_another_users_token(client, alice, dave):
    token = token_create(user=alice, name="mine").token
    signed_in_client(client, dave)

    response = client.delete(f"/api/v1/tokens/{token.pk}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert ApiToken.objects.get().revoked_at is None


def test_using_a_token_records_when(alice):
    new = token_create(user=alice, name="script")

    assert user_for_token(new.raw) == alice
    assert ApiToken.objects.get().last_used_at is not None


def test_a_wrong_or_inactive_token_gives_nobody(alice):
    new = token_create(user=alice, name="script")
    alice.is_active = False
    alice.save()

    assert user_for_token("bd_" + "x" * 43) is None
    assert user_for_token(new.raw) is None
    assert Client().get("/api/v1/me", headers=_bearer(new.raw)).status_code == 401
