"""The code email over a real SMTP server: sent, relay down, relay refusing, relay silent."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from bookdesk.accounts.models import SignInChallenge
from bookdesk.audit.models import AuditEvent
from bookdesk.core.metrics import OTP_EMAILS
from tests.accounts.conftest import code_in
from tests.conftest import free_port

pytestmark = pytest.mark.django_db

UNAVAILABLE = "We could not send your sign-in code just now. Please try again in a few minutes."


def _count(result: str) -> float:
    return OTP_EMAILS.labels(result=result)._value.get()


@pytest.fixture
def relay_down(settings, smtp_settings):
    """Mail settings pointing at a port where nothing listens (connection refused)."""
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def silent_relay(settings, smtp_settings):
    """A server that accepts the connection and then never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.EMAIL_PORT = listener.getsockname()[1]
    settings.EMAIL_TIMEOUT = 0.5
    yield
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.fixture
def dribbling_relay(settings, smtp_settings):
    """A relay that answers every command, each a little before the socket timeout."""
    delay = 0.4
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    stop = threading.Event()

    def converse(conn):
        with conn, conn.makefile("rb") as lines:

            def say(text):
                time.sleep(delay)
                conn.sendall(text.encode() + b"\r\n")

            say("220 slow.example ESMTP")
            for line in lines:
                command = line.strip().upper()
                if command.startswith((b"EHLO", b"HELO")):
                    say("250 slow.example")
                elif command == b"DATA":
                    say("354 go on")
                    for body in lines:
                        if body in (b".\r\n", b".\n"):
                            break
                    say("250 queued")
                elif command == b"QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=converse, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.EMAIL_PORT = listener.getsockname()[1]
    settings.EMAIL_TIMEOUT = 1.0
    yield
    stop.set()
    thread.join()
    listener.close()


def test_the_code_arrives_at_a_real_smtp_server(api, alice, smtp_settings):
    sent_before = _count("sent")

    challenge = api.login(alice.email).json()["challenge"]

    [message] = smtp_settings.inbox.wait_for(alice.email)
    assert api.otp(challenge, code_in(message)).status_code == 200
    assert _count("sent") == sent_before + 1
    assert AuditEvent.objects.filter(action="otp.sent", actor=alice).count() == 1


def test_relay_down_answers_503_email_unavailable(api, alice, relay_down):
    failed_before = _count("failed")

    response = api.login(alice.email)

    assert response.status_code == 503
    assert response.json() == {"error": "email_unavailable", "detail": UNAVAILABLE}
    assert _count("failed") == failed_before + 1
    assert AuditEvent.objects.filter(action="otp.failed", actor=alice).count() == 1
    # The attempt is dropped: nothing half-open is left behind.
    assert not SignInChallenge.objects.exists()


def test_relay_refusing_answers_503_email_unavailable(api, alice, smtp_settings):
    smtp_settings.inbox.refuse = True
    failed_before = _count("failed")

    response = api.login(alice.email)

    assert response.status_code == 503
    assert response.json()["error"] == "email_unavailable"
    assert _count("failed") == failed_before + 1


def test_a_silent_relay_gives_up_after_the_email_timeout(api, alice, silent_relay):
    # No clock here: the request returning at all (rather than hanging until pytest's own
    # timeout) shows the socket timeout applied.
    response = api.login(alice.email)

    assert response.status_code == 503
    assert response.json()["error"] == "email_unavailable"


def test_a_relay_slow_at_every_step_is_cut_off_at_the_email_timeout_overall(
    api, alice, dribbling_relay
):
    # Each answer comes within the socket timeout; the whole conversation takes several
    # times EMAIL_TIMEOUT, so only a bound on the whole send turns it into "try later".
    response = api.login(alice.email)

    assert response.status_code == 503
    assert response.json()["error"] == "email_unavailable"


def test_the_sign_in_page_says_plainly_to_try_again_later(client, alice, relay_down):
    response = client.post(
        "/accounts/login/", {"email": alice.email, "password": "correct horse battery staple"}
    )

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_the_code_never_reaches_the_logs(api, alice, smtp_settings, caplog):
    caplog.set_level(logging.DEBUG)
    api.login(alice.email)
    [message] = smtp_settings.inbox.wait_for(alice.email)
    code = code_in(message)

    # The test SMTP server (logger "mail.log") logs what it receives; the app must not.
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "otp_email_sent" in ours
    assert code not in ours


def test_a_failed_send_is_logged_without_the_code(api, alice, relay_down, caplog):
    caplog.set_level(logging.INFO)

    api.login(alice.email)

    assert "otp_email_failed" in caplog.text
    assert "ConnectionRefusedError" in caplog.text


def test_in_development_the_code_lands_in_the_dev_mailbox(api, alice, settings):
    from bookdesk.notifications.models import DevMessage

    settings.EMAIL_BACKEND = "bookdesk.notifications.devmailbox.DevMailboxBackend"

    challenge = api.login(alice.email).json()["challenge"]

    message = DevMessage.objects.get(to=alice.email)
    assert api.otp(challenge, code_in(message)).status_code == 200
