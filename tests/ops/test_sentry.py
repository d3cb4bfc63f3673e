"""SENTRY_DSN turns on error reporting tagged with the release: sent to a local listener."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.static  # a subprocess of its own; the test database is not used


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_listener():
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def envelope_items(raw: bytes) -> list[dict]:
    # An envelope is JSON lines: a header, then item headers each followed by a payload.
    items = []
    for line in raw.splitlines():
        try:
            items.append(json.loads(line))
        except ValueError:
            continue
    return items


def test_an_error_reaches_sentry_with_the_release(sentry_listener, tmp_path):
    port = sentry_listener.server_address[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bookdesk.settings",
        "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/42",
        "BOOKDESK_COMMIT": "c0ffee1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "LOG_FORMAT": "json",
    }
    script = (
        "import django, sentry_sdk\n"
        "django.setup()\n"
        "try:\n"
        "    raise RuntimeError('something broke in production')\n"
        "except RuntimeError as exc:\n"
        "    sentry_sdk.capture_exception(exc)\n"
        "sentry_sdk.flush(timeout=10)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=PROJECT_DIR, check=True, timeout=60)
    events = [
        item for raw in _Collector.received for item in envelope_items(raw) if item.get("exception")
    ]
    [event] = events
    from bookdesk import __version__

    assert event["release"] == f"bookdesk@{__version__}+c0ffee1"
    assert event["environment"] == "development"
    assert event["exception"]["values"][0]["value"] == "something broke in production"


def test_without_a_dsn_nothing_is_sent(sentry_listener, tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bookdesk.settings"}
    env.pop("SENTRY_DSN", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    script = (
        "import django, sentry_sdk\n"
        "django.setup()\n"
        "assert not sentry_sdk.get_client().is_active()\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=PROJECT_DIR, check=True, timeout=60)
    assert _Collector.received == []
