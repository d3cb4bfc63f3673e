"""Every API error has one shape, {"error": "<code>", "detail": ...}: never HTML, never a trace."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.helpers import api_signed_in


def assert_api_error(response, status: int, error: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == error
    assert "Traceback" not in response.content.decode()
    return body


def test_an_unknown_api_path_is_json_404(client, db):
    assert_api_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_an_unknown_page_is_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_without_credentials_it_is_401(client, db):
    assert_api_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_a_host_that_is_not_allowed_is_json_400_on_the_api(db):
    response = Client(HTTP_HOST="evil.example").get("/api/v1/me")
    assert_api_error(response, 400, "bad_request")


def test_a_host_that_is_not_allowed_is_a_plain_400_on_pages(db):
    response = Client(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_invalid_values_are_422_with_where_and_what(client, alice):
    api = api_signed_in(client, alice)
    response = api.post(
        "/api/v1/bookings",
        {"resource": "x", "start": "not a time"},
        content_type="application/json",
    )
    body = assert_api_error(response, 422, "invalid")
    assert all({"loc", "msg"} <= set(item) for item in body["detail"])


def test_a_body_that_is_not_json_is_400(client, alice):
    api = api_signed_in(client, alice)
    response = api.post("/api/v1/bookings", b"{not json", content_type="application/json")
    assert_api_error(response, 400, "bad_request")


def test_an_unexpected_failure_is_json_500_without_details(client, alice, monkeypatch):
    from bookdesk.bookings import api as bookings_api

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/bookdesk/settings.py line 12")

    monkeypatch.setattr(bookings_api, "bookings_list", broken)
    api = api_signed_in(client, alice)
    response = api.get("/api/v1/bookings")
    body = assert_api_error(response, 500, "internal_error")
    assert "secret internals" not in str(body)


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_the_schema_and_docs_are_served_without_sign_in(client, db, path):
    assert client.get(path).status_code == 200


def test_a_method_the_route_lacks_is_json_405_with_allow(client, db):
    response = client.delete("/api/v1/auth/csrf")
    assert_api_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_errors_carry_the_request_id(client, db):
    response = client.get("/api/v1/no-such-thing", HTTP_X_REQUEST_ID="probe-123456")
    assert response["X-Request-ID"] == "probe-123456"
