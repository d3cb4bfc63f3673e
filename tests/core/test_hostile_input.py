"""No input is a 500: out-of-range numbers and dates, NUL characters and oversized bodies
are each a 4xx, in the API's error shape under /api/ and an HTML page elsewhere.

The client here does not re-raise exceptions, so a 500 shows as a 500 (as it would to an
attacker) rather than as a test error; every case names the request in its id.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.accounts.helpers import signed_in_client

BIG_INTS = [str(2**63), str(2**64 + 1), "9" * 30]
MOMENTS = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:00Z",
    "9999-12-31T23:00:00-05:00",
]
DAYS = ["0001-01-01", "9999-12-31"]


# Each request runs in autocommit, as it does in production: a statement PostgreSQL refuses
# must not poison the test's own transaction for the requests after it.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def resource(transactional_db):
    from bookdesk.resources.models import Resource

    return Resource.objects.create(name="Probe room", capacity=4, timezone="Pacific/Kiritimati")


@pytest.fixture
def alice_client(alice):
    return signed_in_client(Client(raise_request_exception=False), alice)


@pytest.fixture
def carol_client(carol):
    return signed_in_client(Client(raise_request_exception=False), carol)


def assert_client_error(response, api: bool):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if api:
        assert response["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"error", "detail"}
    else:
        assert response["Content-Type"].startswith("text/html")


def api_gets(resource_id: int) -> list[str]:
    urls = []
    for big in BIG_INTS:
        urls += [
            f"/api/v1/bookings?offset={big}",
            f"/api/v1/bookings?resource={big}&offset={big}",
            f"/api/v1/bookings/{big}",
            f"/api/v1/resources/{big}",
            f"/api/v1/exports/jobs/{big}",
            f"/api/v1/exports/jobs/{big}/file",
            f"/api/v1/bookings/{big}/attachments",
            f"/api/v1/attachments/{big}",
            f"/api/v1/exports/bookings.csv?resource={big}",
            f"/api/v1/exports/bookings.xlsx?requester={big}",
            f"/api/v1/exports/bookings.ics?resource={big}",
        ]
    for moment in MOMENTS:
        q = moment.replace("+", "%2B")
        urls += [
            f"/api/v1/bookings?from={q}",
            f"/api/v1/bookings?to={q}",
            f"/api/v1/availability?start={q}&end={q}",
            f"/api/v1/blackouts?from={q}&to={q}",
        ]
    urls += [
        "/api/v1/availability?start=9999-12-31T00:00:00Z&end=9999-12-31T23:59:59Z",
        "/api/v1/availability?start=0001-01-01T00:00:00Z&end=0001-01-02T00:00:00Z",
    ]
    for day in DAYS:
        for fmt in ("csv", "xlsx", "ics"):
            urls += [
                f"/api/v1/exports/bookings.{fmt}?from={day}",
                f"/api/v1/exports/bookings.{fmt}?to={day}",
                f"/api/v1/exports/bookings.{fmt}?from={day}&to={day}",
            ]
    return urls


def page_gets(resource_id: int) -> list[str]:
    urls = []
    for big in BIG_INTS:
        urls += [
            f"/bookings/{big}/",
            f"/resources/{big}/",
            f"/resources/{big}/blackouts/",
            f"/exports/jobs/{big}/download",
            f"/attachments/{big}/download",
            f"/calendar/?resource={big}",
            f"/book/?resource={big}&attendees={big}",
            f"/bookings/?page={big}",
            f"/audit/?page={big}",
            f"/exports/?resource={big}&format=csv",
            f"/availability/?capacity={big}",
        ]
    for day in DAYS:
        urls += [
            f"/calendar/?date={day}&view=month",
            f"/calendar/?date={day}&view=week&resource={resource_id}",
            f"/calendar/?date={day}&view=day",
            f"/calendar/events?start={day}&end={day}",
            f"/calendar/events?start={day}T00:00:00Z&end={day}T23:00:00Z",
            f"/exports/?from={day}&format=csv",
            f"/exports/?to={day}&format=xlsx",
            f"/exports/?from={day}&to={day}&format=ics",
            f"/bookings/?from={day}&to={day}",
            f"/book/?resource={resource_id}&start={day}T00:00&end={day}T23:00",
        ]
    for moment in MOMENTS:
        q = moment.replace("+", "%2B")
        urls += [
            f"/calendar/events?start={q}&end={q}&resource={resource_id}",
            f"/availability/?start={q[:16]}&end={q[:16]}&capacity=1",
        ]
    return urls


def test_out_of_range_numbers_and_dates_in_api_reads_are_4xx(alice_client, resource):
    failures = []
    for url in api_gets(resource.pk):
        response = alice_client.get(url)
        if not 200 <= response.status_code < 500 or (
            response.status_code >= 400 and "error" not in response.json()
        ):
            failures.append((url, response.status_code))
    assert failures == []


def test_out_of_range_numbers_and_dates_in_pages_are_not_500(carol_client, resource):
    failures = []
    for url in page_gets(resource.pk):
        response = carol_client.get(url)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
    assert failures == []


def api_writes(resource_id: int) -> list[tuple[str, str, dict | None]]:
    writes: list[tuple[str, str, dict | None]] = []
    for big in BIG_INTS:
        writes += [
            ("post", f"/api/v1/bookings/{big}/approve", None),
            ("post", f"/api/v1/bookings/{big}/reject", {"reason": "no"}),
            ("post", f"/api/v1/bookings/{big}/cancel", None),
            ("post", "/api/v1/bookings/decide", {"ids": [int(big)], "action": "approve"}),
            ("delete", f"/api/v1/tokens/{big}", None),
            ("delete", f"/api/v1/feeds/{big}", None),
            ("delete", f"/api/v1/blackouts/{big}", None),
            ("delete", f"/api/v1/attachments/{big}", None),
            ("patch", f"/api/v1/resources/{big}", {"name": "x"}),
            ("post", "/api/v1/feeds", {"resource": int(big)}),
            ("post", "/api/v1/exports/jobs", {"format": "csv", "resource": [int(big)]}),
            (
                "post",
                "/api/v1/bookings",
                {
                    "resource": int(big),
                    "start": "2030-01-01T10:00:00Z",
                    "end": "2030-01-01T11:00:00Z",
                    "title": "x",
                },
            ),
            (
                "post",
                "/api/v1/bookings",
                {
                    "resource": resource_id,
                    "start": "2030-01-01T10:00:00Z",
                    "end": "2030-01-01T11:00:00Z",
                    "title": "x",
                    "attendees": int(big),
                },
            ),
        ]
    for moment in MOMENTS:
        writes += [
            (
                "post",
                "/api/v1/bookings",
                {"resource": resource_id, "start": moment, "end": moment, "title": "x"},
            ),
            (
                "post",
                "/api/v1/blackouts",
                {"resource": resource_id, "start": moment, "end": moment, "reason": "x"},
            ),
        ]
    for day in DAYS:
        writes += [
            (
                "post",
                "/api/v1/bookings",
                {
                    "resource": resource_id,
                    "start": "2030-01-01T10:00:00Z",
                    "end": "2030-01-01T11:00:00Z",
                    "title": "x",
                    "recurrence": {"frequency": "weekly", "until": day},
                },
            ),
            (
                "post",
                "/api/v1/bookings",
                {
                    "resource": resource_id,
                    "start": f"{day}T10:00:00Z",
                    "end": f"{day}T11:00:00Z",
                    "title": "x",
                    "recurrence": {"frequency": "daily", "count": 366, "interval": 52},
                },
            ),
            ("post", "/api/v1/exports/jobs", {"format": "xlsx", "from": day, "to": day}),
        ]
    return writes


def test_out_of_range_numbers_and_dates_in_api_writes_are_4xx(carol_client, resource):
    failures = []
    for method, url, body in api_writes(resource.pk):
        response = getattr(carol_client, method)(
            url, json.dumps(body) if body is not None else "", content_type="application/json"
        )
        if response.status_code >= 500 or (
            response.status_code >= 400 and "error" not in response.json()
        ):
            failures.append((method, url, body, response.status_code))
    assert failures == []


@pytest.mark.parametrize("day", DAYS)
def test_booking_form_with_years_at_the_edges_is_refused(carol_client, resource, day):
    for until in ("", day):
        response = carol_client.post(
            "/book/",
            {
                "resource": resource.pk,
                "start": f"{day}T10:00",
                "end": f"{day}T11:00",
                "title": "Edge",
                "attendees": 1,
                "repeat": "weekly" if until else "",
                "until": until,
            },
        )
        assert 400 <= response.status_code < 500, (day, until, response.status_code)
    for until in DAYS:
        response = carol_client.post(
            "/book/",
            {
                "resource": resource.pk,
                "start": "2030-01-01T10:00",
                "end": "2030-01-01T11:00",
                "title": "Edge",
                "attendees": 1,
                "repeat": "daily",
                "until": until,
            },
        )
        assert response.status_code < 500, (until, response.status_code)


# --- NUL characters: refused wherever text comes in, on both databases ---------------------

NULS = ["\x00", "a\x00", "\x00b", "title\x00with\x00several"]
# Lone surrogates only travel in JSON ("\ud800"); a URL or form is UTF-8 bytes.
NOT_TEXT = [*NULS, "\ud800", "x\udfffy"]


def api_text_writes(resource_id: int, nul: str) -> list[tuple[str, str, dict]]:
    booking = {
        "resource": resource_id,
        "start": "2030-01-01T10:00:00Z",
        "end": "2030-01-01T11:00:00Z",
        "title": "Meeting",
    }
    return [
        ("post", "/api/v1/bookings", {**booking, "title": nul}),
        ("post", "/api/v1/bookings", {**booking, "purpose": nul}),
        ("post", "/api/v1/bookings", {**booking, nul: "key"}),
        ("post", "/api/v1/tokens", {"name": nul}),
        ("patch", f"/api/v1/resources/{resource_id}", {"name": nul}),
        ("patch", f"/api/v1/resources/{resource_id}", {"location": nul}),
        ("patch", f"/api/v1/resources/{resource_id}", {"approver_groups": [nul]}),
        (
            "post",
            "/api/v1/blackouts",
            {"start": booking["start"], "end": booking["end"], "reason": nul},
        ),
        ("post", "/api/v1/bookings/decide", {"ids": [1], "action": "reject", "reason": nul}),
        ("post", "/api/v1/auth/login", {"email": nul, "password": "x"}),
        ("post", "/api/v1/auth/login", {"email": "carol@example.com", "password": nul}),
    ]


@pytest.mark.parametrize("nul", NOT_TEXT, ids=repr)
def test_a_nul_in_any_api_text_is_refused_and_nothing_is_stored(carol_client, resource, nul):
    from bookdesk.audit.models import AuditEvent
    from bookdesk.bookings.models import Booking

    audit_rows = AuditEvent.objects.count()
    for method, url, body in api_text_writes(resource.pk, nul):
        response = getattr(carol_client, method)(url, body, content_type="application/json")
        assert_client_error(response, api=True)
        assert response.status_code == 400, (url, body)
        assert response.json()["error"] == "invalid_character"
    assert not Booking.objects.exists()
    resource.refresh_from_db()
    assert "\x00" not in resource.name + resource.location
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.parametrize("nul", NULS, ids=repr)
def test_a_nul_in_a_query_string_or_path_is_refused(carol_client, resource, nul):
    from urllib.parse import quote

    for url in (
        f"/api/v1/exports/bookings.csv?requester={quote(nul)}",
        f"/api/v1/bookings?{quote(nul)}=1",
        f"/api/v1/resources?kind={quote(nul)}",
    ):
        assert_client_error(carol_client.get(url), api=True)
    for url in (
        f"/exports/?requester={quote(nul)}&format=csv",
        f"/exports/feeds/{quote(nul)}.ics",
        f"/calendar/?view={quote(nul)}",
    ):
        response = carol_client.get(url)
        assert_client_error(response, api=False)


@pytest.mark.parametrize("nul", NULS, ids=repr)
def test_a_nul_in_a_page_form_is_refused_and_nothing_is_stored(carol_client, resource, nul):
    from bookdesk.bookings.models import Booking

    for data in (
        {
            "resource": resource.pk,
            "start": "2030-01-01T10:00",
            "end": "2030-01-01T11:00",
            "title": nul,
            "attendees": 1,
        },
        {
            "resource": resource.pk,
            "start": "2030-01-01T10:00",
            "end": "2030-01-01T11:00",
            "title": "ok",
            "purpose": nul,
            "attendees": 1,
        },
    ):
        response = carol_client.post("/book/", data)
        assert_client_error(response, api=False)
    response = carol_client.post(f"/resources/{resource.pk}/", {"name": nul, "capacity": 2})
    assert_client_error(response, api=False)
    assert not Booking.objects.exists()
    resource.refresh_from_db()
    assert "\x00" not in resource.name


def test_a_nul_in_the_session_cookie_is_refused(db):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abc\x00def"
    assert_client_error(client.get("/api/v1/me"), api=True)
    assert_client_error(client.get("/accounts/login/"), api=False)


# --- bodies over the limit -----------------------------------------------------------------


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 1100 * 1024, 3 * 1024 * 1024])
@pytest.mark.parametrize("url", ["/api/v1/auth/login", "/api/v1/auth/otp", "/api/v1/bookings"])
def test_an_oversized_anonymous_json_body_is_413_in_the_error_shape(db, url, size):
    client = Client(raise_request_exception=False)
    body = json.dumps({"email": "a@example.com", "password": "x" * size})
    response = client.post(url, body, content_type="application/json")
    assert_client_error(response, api=True)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_an_oversized_signin_form_is_a_4xx_page(db):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/accounts/login/", {"email": "a@example.com", "password": "x" * (1100 * 1024)}
    )
    assert 400 <= response.status_code < 500


# --- opening hours are wall-clock times ----------------------------------------------------


@pytest.mark.parametrize("value", ["08:00:00+02:00", "08:00Z", "08:00:00-05:30", "17:00:00+00:00"])
def test_an_opening_time_with_a_utc_offset_is_refused(carol_client, resource, value):
    hours = [{"weekday": 0, "opens": value, "closes": "18:00"}]
    response = carol_client.patch(
        f"/api/v1/resources/{resource.pk}",
        {"opening_hours": hours},
        content_type="application/json",
    )
    assert_client_error(response, api=True)
    assert response.status_code == 422
    assert not resource.opening_hours.exists()


def test_an_opening_time_without_an_offset_is_kept(carol_client, resource):
    hours = [{"weekday": 0, "opens": "08:00", "closes": "18:00"}]
    response = carol_client.patch(
        f"/api/v1/resources/{resource.pk}",
        {"opening_hours": hours},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert [(h.opens.hour, h.closes.hour) for h in resource.opening_hours.all()] == [(8, 18)]
