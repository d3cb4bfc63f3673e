"""Uploads against the real server (gunicorn): a body cut off mid-way, and one too large."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
import requests

from bookdesk.attachments.models import Attachment
from tests.conftest import start_app_server, stop_app_server

pytestmark = pytest.mark.live

LIMIT = 50_000


@pytest.fixture
def server(transactional_db, tmp_path, uploads_root):
    app = start_app_server(
        tmp_path,
        workers=1,
        threads=2,
        extra_env={"UPLOADS_ROOT": str(uploads_root), "ATTACHMENT_MAX_BYTES": str(LIMIT)},
    )
    try:
        yield app
    finally:
        stop_app_server(app)


@pytest.fixture
def token(alice):
    from bookdesk.accounts.tokens import token_create

    return token_create(user=alice, name="live test").raw


def wait_for_request_log(app, request_id: str, timeout: float = 20.0) -> dict:
    """The app's 'request' log line for ``request_id`` (written once the request is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in app.log().splitlines():
            if request_id in line and '"request"' in line:
                return json.loads(line)
        time.sleep(0.1)
    raise AssertionError(f"request {request_id} never finished:\n{app.log()}")


def files_under(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_cut_off_mid_body_leaves_no_file_and_no_row(server, booking, token, uploads_root):
    boundary = "bookdeskboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="notes.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    partial = b"line of text\n" * 1000  # 13 kB of a file announced much larger
    request_id = uuid.uuid4().hex
    host, port = server.url.removeprefix("http://").split(":")
    request_head = (
        f"POST /api/v1/bookings/{booking.pk}/attachments HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"X-Request-ID: {request_id}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 40_000}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request_head + head + partial)
        time.sleep(0.3)
    # The client is gone; the server finishes the request on its own.
    line = wait_for_request_log(server, request_id)
    assert line["status"] == 400
    assert not Attachment.objects.exists()
    assert files_under(uploads_root) == []


def test_a_body_over_the_limit_is_refused_with_413(server, booking, token, uploads_root):
    response = requests.post(
        f"{server.url}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("big.txt", b"x" * (LIMIT * 4), "text/plain")},
        timeout=20,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert "larger than the limit of 48.8 KB" in response.json()["detail"]
    assert files_under(uploads_root) == []


def test_a_normal_upload_works_through_gunicorn(server, booking, token, uploads_root):
    from tests.attachments import samples

    response = requests.post(
        f"{server.url}/api/v1/bookings/{booking.pk}/attachments",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("plan.docx", samples.docx(), "application/octet-stream")},
        timeout=20,
    )
    assert response.status_code == 201, response.text
    assert len(files_under(uploads_root)) == 1


def test_a_client_that_stops_sending_is_told_the_upload_was_interrupted(
    server, booking, token, uploads_root
):
    """Same as above, but the client only half-closes, so it can read the answer."""
    boundary = "bookdeskboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="notes.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    host, port = server.url.removeprefix("http://").split(":")
    request_head = (
        f"POST /api/v1/bookings/{booking.pk}/attachments HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Connection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 40_000}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(request_head + head + b"partial text\n" * 100)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request"
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body == {
        "error": "upload_interrupted",
        "detail": "The upload ended before the whole file arrived.",
    }
    assert not Attachment.objects.exists()
    assert files_under(uploads_root) == []
