"""A stalled database (packets dropped, not refused) bounds every request instead of freezing
the server: the API answers 503 with Retry-After in its error shape, pages a 503 page,
/healthz stays 200, and all recovers when the network does.

The app runs under gunicorn and reaches PostgreSQL through a small TCP relay on loopback;
an iptables rule on the relay's port drops its packets, which is what a dead network
path or a frozen database host looks like to the client (no RST, no FIN, nothing).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading

import pytest
import requests

from tests.conftest import database_url_for_subprocess, start_app_server, stop_app_server

pytestmark = pytest.mark.postgres

# Small limits, so the test waits seconds, not the production defaults' tens of seconds.
STALL_ENV = {
    "DATABASE_CONNECT_TIMEOUT": "2",
    "DATABASE_TCP_USER_TIMEOUT": "2",
    "DATABASE_KEEPALIVES_IDLE": "1",
}
# Any request still waiting after this long shows the wait is unbounded (without the
# limits it would wait for TCP to give up, 15 minutes or more).
CLIENT_TIMEOUT = 20


class Relay:
    """Forwards loopback connections on ``port`` to PostgreSQL, byte for byte."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.stopped = True
        self.listener.close()


def _iptables(action: str, port: int) -> None:
    for direction in ("--dport", "--sport"):
        subprocess.run(
            [
                "iptables",
                action,
                "INPUT",
                "-i",
                "lo",
                "-p",
                "tcp",
                direction,
                str(port),
                "-j",
                "DROP",
            ],
            check=True,
        )


@contextlib.contextmanager
def black_hole(port: int):
    _iptables("-I", port)
    try:
        yield
    finally:
        _iptables("-D", port)


@pytest.fixture
def stalled_app(transactional_db, tmp_path):
    assert shutil.which("iptables"), "iptables is needed (installed by .ci/run)"
    from django.db import connection

    cfg = connection.settings_dict
    relay = Relay((cfg["HOST"] or "127.0.0.1", int(cfg["PORT"] or 5432)))
    direct = database_url_for_subprocess()
    through_relay = direct.replace(f":{cfg['PORT'] or 5432}/", f":{relay.port}/")
    assert through_relay != direct
    server = start_app_server(
        tmp_path, workers=1, threads=4, extra_env={**STALL_ENV, "DATABASE_URL": through_relay}
    )
    try:
        yield server, relay
    finally:
        stop_app_server(server)
        relay.close()


def _api(server):
    # An unknown token: the lookup needs the database, the answer (401) does not leak it.
    return requests.get(
        f"{server.url}/api/v1/me",
        headers={"Authorization": "Bearer bd_not-a-real-token"},
        timeout=CLIENT_TIMEOUT,
    )


def _page(server):
    # A session cookie makes the session middleware read the database before any view.
    return requests.get(
        f"{server.url}/calendar/",
        cookies={"sessionid": "x" * 32},
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )


def test_a_stalled_database_is_503_with_retry_after_and_healthz_stays_up(stalled_app):
    server, relay = stalled_app
    assert _api(server).status_code == 401
    assert _page(server).status_code == 302

    with black_hole(relay.port):
        # Twice each: first on the kept connection (its query is never acknowledged), then
        # on a fresh one (its SYN is never answered).
        for _ in range(2):
            response = _api(server)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "unavailable"
            assert set(response.json()) == {"error", "detail"}
            assert int(response.headers["Retry-After"]) > 0

            page = _page(server)
            assert page.status_code == 503, page.text[:300]
            assert page.headers["Content-Type"].startswith("text/html")
            assert int(page.headers["Retry-After"]) > 0
            assert "Traceback" not in page.text

            health = requests.get(f"{server.url}/healthz", timeout=CLIENT_TIMEOUT)
            assert health.status_code == 200

    # Recovered: the next requests reach the database again.
    assert _api(server).status_code == 401
    assert _page(server).status_code == 302
    assert "database_unavailable" in server.log()


def test_every_database_session_has_statement_and_lock_timeouts(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW lock_timeout")
        lock = cursor.fetchone()[0]
    assert (statement, lock) == ("20s", "5s")
    options = connection.settings_dict["OPTIONS"]
    assert options["tcp_user_timeout"] == 10000
    assert options["keepalives"] == 1
    assert options["connect_timeout"] == 5
