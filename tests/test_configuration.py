"""Configuration comes from the environment; deployed modes refuse unsafe values."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from bookdesk.config import ConfigError, parse_database_url, parse_email_url

pytestmark = pytest.mark.static

PROJECT_DIR = Path(__file__).resolve().parent.parent


def production_env(**overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "TEST_DATABASE_NAME", "EMAIL_URL", "SECRET_KEY"}
    }
    env.update(
        BOOKDESK_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="bookdesk.example.org",
        DATABASE_URL="postgres://bookdesk@127.0.0.1:5432/bookdesk",
        EMAIL_URL="smtp://login:key@relay.example.net:587",
        SITE_URL="https://bookdesk.example.org",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run_bookdesk(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bookdesk", *args],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_reports_no_warnings_in_production():
    result = run_bookdesk("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"EMAIL_URL": None}, "EMAIL_URL"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"BOOKDESK_ENV": "prod"}, "BOOKDESK_ENV"),
        ({"EMAIL_TIMEOUT": "ten"}, "EMAIL_TIMEOUT"),
        # Mail links and calendar UIDs would silently name 127.0.0.1.
        ({"SITE_URL": None}, "SITE_URL"),
        ({"SITE_URL": "book.example.org"}, "SITE_URL"),
    ],
)
def test_production_refuses_to_start_with_one_line(overrides, names):
    result = run_bookdesk("check", env=production_env(**overrides))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bookdesk: configuration error:")
    assert names in lines[0]


def test_the_secret_never_appears_in_the_refusal():
    key = "x" * 10
    result = run_bookdesk("check", env=production_env(SECRET_KEY=key))
    assert result.returncode == 2
    assert key not in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(60) + "\n")
    env = production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    result = run_bookdesk("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_deployed_cookies_are_secure_httponly_and_samesite():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_SAMESITE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**production_env(), "DJANGO_SETTINGS_MODULE": "bookdesk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_DIR,
    )
    assert result.stdout.split() == ["True", "True", "True", "Lax"], result.stderr


def test_sqlite_url_relative_and_absolute(tmp_path):
    relative = parse_database_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert relative["NAME"] == str(tmp_path / "var" / "x.sqlite3")
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    absolute = parse_database_url("sqlite:////srv/data/x.sqlite3", base_dir=tmp_path)
    assert absolute["NAME"] == "/srv/data/x.sqlite3"


def test_postgres_url_with_escaped_password():
    cfg = parse_database_url(
        "postgres://app:p%40ss%2Fw@db.internal:6432/book?sslmode=require", base_dir=Path(".")
    )
    assert (cfg["USER"], cfg["PASSWORD"], cfg["HOST"], cfg["PORT"], cfg["NAME"]) == (
        "app",
        "p@ss/w",
        "db.internal",
        "6432",
        "book",
    )
    assert cfg["OPTIONS"] == {"sslmode": "require"}


def test_unknown_database_scheme_is_refused():
    with pytest.raises(ConfigError, match="mysql"):
        parse_database_url("mysql://x@y/z", base_dir=Path("."))


def test_email_url_for_brevo_uses_starttls_on_587():
    cfg = parse_email_url("smtp://login%40example.org:key@smtp-relay.brevo.com:587")
    assert (cfg.host, cfg.port, cfg.user, cfg.password, cfg.use_tls, cfg.use_ssl) == (
        "smtp-relay.brevo.com",
        587,
        "login@example.org",
        "key",
        True,
        False,
    )


def test_email_url_smtps_uses_implicit_tls():
    cfg = parse_email_url("smtps://u:p@relay.example.net")
    assert (cfg.port, cfg.use_ssl, cfg.use_tls) == (465, True, False)


def test_email_url_plain_for_a_local_relay():
    cfg = parse_email_url("smtp://127.0.0.1:2525?tls=false")
    assert (cfg.port, cfg.use_ssl, cfg.use_tls) == (2525, False, False)


def test_email_url_both_tls_modes_is_refused():
    with pytest.raises(ConfigError):
        parse_email_url("smtps://u:p@relay.example.net?tls=true")


def test_no_email_url_means_the_development_mailbox():
    assert parse_email_url(None).backend.endswith("DevMailboxBackend")


@pytest.mark.static
def test_every_setting_read_from_the_environment_is_documented():
    """settings.py reads variables through config.py's env_* helpers; each one has a row in
    docs/configuration.md."""
    source = (PROJECT_DIR / "src" / "bookdesk" / "settings.py").read_text()
    names = set(re.findall(r"env_[a-z]+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    assert {"SITE_URL", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"} <= names
    documented = (PROJECT_DIR / "docs" / "configuration.md").read_text()
    missing = sorted(name for name in names if f"| `{name}`" not in documented)
    assert missing == []
