"""Logs: one JSON object per line, request ids, and no secret in any line."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import structlog
from django.test import Client

from bookdesk.core.logging import REDACTED, logging_config, redact
from bookdesk.core.requestid import request_id_bound, set_request_id
from tests.conftest import PASSWORD


class Captured:
    def __init__(self, stream: io.StringIO):
        self.stream = stream

    def events(self) -> list[dict]:
        lines = [line for line in self.stream.getvalue().splitlines() if line.strip()]
        return [json.loads(line) for line in lines]  # any non-JSON line fails here


@pytest.fixture
def json_logs():
    """The production formatter on the root logger, writing to a string we can read."""
    config = logging_config(level="DEBUG", fmt="json")["formatters"]["structured"]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=config["foreign_pre_chain"], processors=config["processors"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


# --- the redaction processor --------------------------------------------------------------


def test_secret_keys_are_redacted_at_the_top_level():
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "password": "hunter2hunter2",
            "code": "123456",
            "otp_code": "654321",
            "csrf_token": "abc",
            "SMTP_PASSWORD": "relay-key",
            "session_key": "k",
            "Authorization": "Bearer t",
            "challenge": "c",
        },
    )
    assert event["event"] == "x"
    for key in (
        "password",
        "code",
        "otp_code",
        "csrf_token",
        "SMTP_PASSWORD",
        "session_key",
        "Authorization",
        "challenge",
    ):
        assert event[key] == REDACTED, key


def test_ordinary_keys_are_kept():
    event = redact(
        None,
        "info",
        {"status_code": 404, "token_id": 7, "user_id": 3, "path": "/x", "kind": "otp_email"},
    )
    assert event == {
        "status_code": 404,
        "token_id": 7,
        "user_id": 3,
        "path": "/x",
        "kind": "otp_email",
    }


def test_secrets_one_level_down_are_redacted_too():
    event = redact(
        None,
        "info",
        {"form": {"email": "a@example.com", "password": "p"}, "attempts": [{"code": "1"}]},
    )
    assert event["form"] == {"email": "a@example.com", "password": REDACTED}
    assert event["attempts"] == [{"code": REDACTED}]


def test_the_whole_pipeline_redacts_for_structlog_and_stdlib_callers(json_logs):
    structlog.get_logger("tests.ops").info("structlog caller", password="s3cret-one")
    logging.getLogger("tests.ops").info("stdlib caller %s", "plain", extra={"token": "s3cret-2"})
    text = json_logs.stream.getvalue()
    assert "s3cret-one" not in text
    events = json_logs.events()
    assert events[0]["password"] == REDACTED
    assert events[1]["message"] == "stdlib caller plain"


def test_each_line_has_the_fields_an_operator_searches_by(json_logs):
    token = set_request_id("req-abcdef123456")
    try:
        structlog.get_logger("tests.ops").warning("something happened", thing=1)
    finally:
        from bookdesk.core.requestid import reset_request_id

        reset_request_id(token)
    [event] = json_logs.events()
    assert event["level"] == "warning"
    assert event["logger"] == "tests.ops"
    assert event["message"] == "something happened"
    assert event["request_id"] == "req-abcdef123456"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", event["timestamp"])


def test_an_exception_is_one_line_with_its_traceback(json_logs):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.ops").exception("it failed")
    [event] = json_logs.events()
    assert event["level"] == "error"
    assert "ValueError: boom" in event["exception"]


# --- request ids ----------------------------------------------------------------------------


def test_a_request_id_from_nginx_is_kept_and_returned(client, db, json_logs):
    response = client.get("/api/v1/nothing-here", HTTP_X_REQUEST_ID="f00dfeedcafe0001")
    assert response["X-Request-ID"] == "f00dfeedcafe0001"
    [line] = [e for e in json_logs.events() if e["logger"] == "bookdesk.request"]
    assert line["request_id"] == "f00dfeedcafe0001"
    assert line["path"] == "/api/v1/nothing-here"
    assert line["status"] == 404
    assert line["method"] == "GET"
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float)


def test_a_missing_or_strange_request_id_is_replaced(client, db):
    made = client.get("/api/v1/x")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    forged = client.get("/api/v1/x", HTTP_X_REQUEST_ID='x"}\n{"level":"error')["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)


def test_the_request_line_names_the_signed_in_user(client, alice, json_logs):
    from tests.accounts.helpers import signed_in_client

    signed_in_client(client, alice)
    client.get("/api/v1/me")
    [line] = [e for e in json_logs.events() if e["logger"] == "bookdesk.request"]
    assert line["user_id"] == alice.pk
    assert line["status"] == 200


def test_an_email_queued_in_a_request_carries_its_id_to_the_worker(db, json_logs, mailoutbox):
    from bookdesk.notifications.outbox import claim_due, send_batch
    from bookdesk.notifications.services import enqueue_email

    with request_id_bound("req-queued-0000001"):
        message = enqueue_email(
            kind="test", to=["someone@example.com"], template="booking-requested", context={}
        )
    assert message.request_id == "req-queued-0000001"
    # Later, in the worker, outside any request:
    result = send_batch(claim_due(worker="test-worker"), worker="test-worker")
    assert result.sent == 1
    [sent] = [e for e in json_logs.events() if e["message"] == "email sent"]
    assert sent["request_id"] == "req-queued-0000001"


# --- no secret in any line ------------------------------------------------------------------


def secrets_absent(events: list[dict], secrets: dict[str, str]) -> None:
    for event in events:
        # The timestamp's microseconds are six digits too; everything else is searched.
        text = json.dumps({k: v for k, v in event.items() if k != "timestamp"})
        for what, secret in secrets.items():
            assert secret not in text, f"{what} logged: {text}"


def test_sign_in_and_token_flows_log_no_secret(alice, json_logs, mailoutbox, settings):
    alice.set_password(PASSWORD)
    alice.save()
    client = Client()
    wrong_password = "Wrong-Horse-Battery-77"

    response = client.post(
        "/api/v1/auth/login",
        {"email": alice.email, "password": wrong_password},
        content_type="application/json",
    )
    assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/login",
        {"email": alice.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    challenge = response.json()["challenge"]
    code = re.search(r"\b(\d{6})\b", mailoutbox[-1].subject).group(1)
    wrong_code = f"{(int(code) + 1) % 1000000:06d}"
    response = client.post(
        "/api/v1/auth/otp",
        {"challenge": challenge, "code": wrong_code},
        content_type="application/json",
    )
    assert response.status_code in {400, 401, 403}, response.content
    response = client.post(
        "/api/v1/auth/otp", {"challenge": challenge, "code": code}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    response = client.post("/api/v1/tokens", {"name": "cli"}, content_type="application/json")
    assert response.status_code == 201, response.content
    raw_token = response.json()["token"]
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw_token}").status_code == 200
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-real-token-x").status_code

    events = json_logs.events()
    # The flows did log (request lines, sign-in events), so silence is not what passes here.
    assert sum(e["logger"] == "bookdesk.request" for e in events) >= 6
    secrets_absent(
        events,
        {
            "password": PASSWORD,
            "wrong password": wrong_password,
            "code": code,
            "wrong code": wrong_code,
            "challenge": challenge,
            "token": raw_token,
            "session key": client.cookies["sessionid"].value,
        },
    )


def test_credentials_inside_text_are_redacted():
    raw = "bd_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v"
    event = redact(
        None,
        "error",
        {
            "event": f"rejected header Authorization: Bearer {raw}",
            "detail": f"token {raw} is unknown",
            "prefix": raw[:10],
        },
    )
    assert raw not in json.dumps(event)
    assert event["event"] == f"rejected header Authorization: Bearer {REDACTED}"
    assert event["detail"] == f"token {REDACTED} is unknown"
    assert event["prefix"] == raw[:10]  # the short prefix shown in the UI identifies, no more
