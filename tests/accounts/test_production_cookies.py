"""In production the session and CSRF cookies are Secure, HttpOnly (session) and SameSite."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR


@pytest.mark.static
def test_production_cookies_are_secure_httponly_and_samesite(tmp_path):
    env = {
        **os.environ,
        "BOOKDESK_ENV": "production",
        "SITE_URL": "https://bookdesk.example.org",
        "SECRET_KEY": "k7Vq2-" + "x9Lm3pQ8rT1wZ4yB6nC0dF5gH7jK2sA9eU3iO8" + "vR4tY6uP1aS0dG",
        "ALLOWED_HOSTS": "bookdesk.example.org",
        "DATABASE_URL": "postgres://bookdesk@127.0.0.1:5432/bookdesk",
        "EMAIL_URL": "smtp://relay.example.org:587",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "bookdesk.settings",
    }
    env.pop("DEBUG", None)
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'secure': s.SESSION_COOKIE_SECURE, 'httponly': s.SESSION_COOKIE_HTTPONLY,"
        "'samesite': s.SESSION_COOKIE_SAMESITE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'csrf_samesite': s.CSRF_COOKIE_SAMESITE}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
        "csrf_secure": True,
        "csrf_samesite": "Lax",
    }
