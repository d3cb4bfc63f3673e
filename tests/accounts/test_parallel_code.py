"""Twenty parallel submissions of one valid code, through HTTP to gunicorn: one success."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bookdesk.accounts.models import SignInChallenge
from bookdesk.audit.models import AuditEvent
from tests.conftest import PASSWORD, start_app_server, stop_app_server

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PARALLEL = 20


def _csrf_session(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/api/v1/auth/csrf", timeout=10).raise_for_status()
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def test_one_code_submitted_twenty_times_in_parallel_signs_in_once(alice, smtp_server, tmp_path):
    server = start_app_server(
        tmp_path, workers=4, threads=5, extra_env={"EMAIL_URL": smtp_server.url}
    )
    try:
        starter = _csrf_session(server.url)
        login = starter.post(
            f"{server.url}/api/v1/auth/login",
            json={"email": alice.email, "password": PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        challenge = login.json()["challenge"]
        [message] = smtp_server.inbox.wait_for(alice.email)
        code = re.search(r"\b(\d{6})\b", message["Subject"]).group(1)

        clients = [_csrf_session(server.url) for _ in range(PARALLEL)]
        barrier = threading.Barrier(PARALLEL)

        def submit(session: requests.Session) -> int:
            barrier.wait(timeout=30)
            response = session.post(
                f"{server.url}/api/v1/auth/otp",
                json={"challenge": challenge, "code": code},
                timeout=60,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            statuses = list(pool.map(submit, clients))
    finally:
        stop_app_server(server)

    assert statuses.count(200) == 1, (statuses, server.log()[-3000:])
    assert sorted(set(statuses)) == [200, 401]
    assert AuditEvent.objects.filter(action="signin.success", actor=alice).count() == 1
    assert SignInChallenge.objects.get().used_at is not None
