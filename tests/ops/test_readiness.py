"""/readyz: each check passes, warns or fails, and only operators see why."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta

import pytest
import requests
from django.core.cache import cache
from django.utils import timezone

from bookdesk.ops import readiness
from tests.conftest import free_port, start_app_server, stop_app_server

PUBLIC = "203.0.113.7"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def fresh_state(settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    settings.UPLOADS_ROOT.mkdir()
    readiness._migrations_applied = False
    readiness._local_smtp = None
    yield
    readiness._migrations_applied = False
    readiness._local_smtp = None


def ready(client, **extra):
    response = client.get("/readyz", **extra)
    assert response["Content-Type"] == "application/health+json"
    assert response["Cache-Control"] == "no-store"
    return response, response.json()


def check(body, name):
    [result] = body["checks"][name]
    return result


def test_all_pass(client, db, settings):
    settings.COMMIT = "abc1234"
    response, body = ready(client)
    assert response.status_code == 200
    assert body["status"] == "pass"
    assert body["releaseId"] == f"{settings.VERSION}+abc1234"
    assert set(body["checks"]) == {
        "database:responseTime",
        "database:migrations",
        "cache:responseTime",
        "uploads:writable",
        "uploads:freeSpace",
        "smtp:connection",
        "outbox:oldestAge",
    }
    assert all(r["status"] == "pass" for [r] in body["checks"].values())


def test_others_see_the_status_alone(client, db):
    response, body = ready(client, REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 200
    assert body == {"status": "pass"}


def test_others_see_a_failure_but_not_why(client, db, settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "a-file"
    settings.UPLOADS_ROOT.write_text("not a directory")
    response, body = ready(client, REMOTE_ADDR=PUBLIC)
    assert response.status_code == 503
    assert body == {"status": "fail"}


def test_the_metrics_token_shows_the_details(client, db, settings):
    settings.METRICS_TOKEN = "scrape-token-for-tests"
    _, body = ready(client, REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer scrape-token-for-tests")
    assert "checks" in body


def test_it_answers_a_probe_by_ip_address(client, db):
    response, body = ready(client, HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert body["status"] == "pass"


def test_unapplied_migrations_fail(client, db, settings):
    settings.MIGRATION_MODULES = {"ops": "tests.ops.pending_migrations"}
    response, body = ready(client)
    assert response.status_code == 503
    result = check(body, "database:migrations")
    assert result["status"] == "fail"
    assert result["observedValue"] == 1
    assert "ops.0001_initial" in result["output"]


def test_applied_migrations_are_remembered_by_the_process(client, db, settings):
    ready(client)
    assert readiness._migrations_applied
    # Once all were applied, a later request does not look again.
    settings.MIGRATION_MODULES = {"ops": "tests.ops.pending_migrations"}
    _, body = ready(client)
    assert check(body, "database:migrations")["status"] == "pass"


def test_a_broken_cache_fails(client, db, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response, body = ready(client)
    assert response.status_code == 503
    assert check(body, "cache:responseTime")["status"] == "fail"


def test_the_real_redis_cache_passes(client, db, settings):
    # Loopback here; in the GitHub job the service container `redis` (TEST_REDIS_URL).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        }
    }
    _, body = ready(client)
    assert check(body, "cache:responseTime")["status"] == "pass"


def test_uploads_that_cannot_be_written_fail(client, db, settings, tmp_path):
    # Tests run as root, for whom permissions do not stop a write; a file in the way does.
    settings.UPLOADS_ROOT = tmp_path / "a-file"
    settings.UPLOADS_ROOT.write_text("not a directory")
    response, body = ready(client)
    assert response.status_code == 503
    result = check(body, "uploads:writable")
    assert result["status"] == "fail"
    assert "a-file" in result["output"]


def test_the_writability_probe_leaves_nothing_behind(client, db, settings):
    ready(client)
    assert list(settings.UPLOADS_ROOT.iterdir()) == []


def test_a_missing_uploads_volume_fails_when_deployed(client, db, settings, tmp_path):
    settings.IS_DEPLOYED = True
    settings.UPLOADS_ROOT = tmp_path / "not-mounted"
    response, body = ready(client)
    assert response.status_code == 503
    assert check(body, "uploads:writable")["status"] == "fail"
    assert not settings.UPLOADS_ROOT.exists()


def test_a_fresh_laptop_gets_its_uploads_directory(client, db, settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "var" / "uploads"
    _, body = ready(client)
    assert check(body, "uploads:writable")["status"] == "pass"
    assert settings.UPLOADS_ROOT.is_dir()


def test_low_free_space_warns(client, db, settings):
    settings.READYZ_UPLOADS_WARN_FREE_MB = 10**12  # more than any disk here has free
    response, body = ready(client)
    assert response.status_code == 200
    assert body["status"] == "warn"
    result = check(body, "uploads:freeSpace")
    assert result["status"] == "warn"
    assert result["observedUnit"] == "bytes" and result["observedValue"] > 0


def test_very_low_free_space_fails(client, db, settings):
    settings.READYZ_UPLOADS_WARN_FREE_MB = 10**12
    settings.READYZ_UPLOADS_FAIL_FREE_MB = 10**12
    response, body = ready(client)
    assert response.status_code == 503
    assert check(body, "uploads:freeSpace")["status"] == "fail"


def test_the_dev_mailbox_needs_no_relay(client, db, settings):
    settings.EMAIL_BACKEND = "bookdesk.notifications.devmailbox.DevMailboxBackend"
    _, body = ready(client)
    result = check(body, "smtp:connection")
    assert result["status"] == "pass"
    assert "no relay" in result["output"]


def test_a_reachable_relay_passes(client, db, smtp_settings):
    _, body = ready(client)
    result = check(body, "smtp:connection")
    assert result["status"] == "pass"
    assert result["observedUnit"] == "ms"


def test_a_closed_relay_port_warns_but_keeps_the_instance_in(client, db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    response, body = ready(client)
    assert response.status_code == 200
    assert body["status"] == "warn"
    result = check(body, "smtp:connection")
    assert result["status"] == "warn"
    assert "refused" in result["output"].lower()


def smtp_connections(caplog) -> int:
    return sum("handling connection" in r.getMessage() for r in caplog.records)


def test_the_relay_is_probed_at_most_once_per_period(client, db, smtp_settings, caplog):
    caplog.set_level("INFO", logger="mail.log")
    cache.clear()
    for _ in range(3):
        assert check(ready(client)[1], "smtp:connection")["status"] == "pass"
        # A process that never probed (its memory is empty) shares the answer via the cache.
        readiness._local_smtp = None
    assert smtp_connections(caplog) == 1
    cache.clear()  # the period is over
    assert check(ready(client)[1], "smtp:connection")["status"] == "pass"
    assert smtp_connections(caplog) == 2


def test_without_a_working_cache_the_process_still_limits_probes(db, smtp_settings, caplog):
    from django.test import override_settings

    caplog.set_level("INFO", logger="mail.log")
    broken = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=broken):
        for _ in range(3):
            assert readiness.check_smtp()["status"] == "pass"
    assert smtp_connections(caplog) == 1


def test_an_old_outbox_backlog_warns(client, db, settings):
    from bookdesk.notifications.models import OutboxMessage

    settings.READYZ_OUTBOX_WARN_MINUTES = 15
    OutboxMessage.objects.create(
        kind="test",
        to=["a@example.com"],
        subject="s",
        text="t",
        created_at=timezone.now() - timedelta(minutes=10),
    )
    _, body = ready(client)
    assert check(body, "outbox:oldestAge")["status"] == "pass"
    OutboxMessage.objects.create(
        kind="test",
        to=["a@example.com"],
        subject="s",
        text="t",
        created_at=timezone.now() - timedelta(minutes=20),
    )
    response, body = ready(client)
    assert response.status_code == 200
    result = check(body, "outbox:oldestAge")
    assert result["status"] == "warn"
    assert result["output"] == "2 waiting"
    assert 20 * 60 <= result["observedValue"] < 21 * 60


def test_a_database_that_cannot_be_reached_fails(transactional_db, tmp_path, connection_vendor):
    # A real server whose database is a closed port (or an unopenable SQLite file).
    if connection_vendor == "postgresql":
        url = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    else:
        url = "sqlite:////nonexistent-dir/bookdesk.sqlite3"
    server = start_app_server(
        tmp_path, workers=1, threads=2, extra_env={"DATABASE_URL": url, "REDIS_URL": ""}
    )
    try:
        response = requests.get(f"{server.url}/readyz", timeout=30)
        assert response.status_code == 503
        body = response.json()
        assert check(body, "database:responseTime")["status"] == "fail"
        # What needs the database is not asked again (each would wait for the timeout).
        for name in ("database:migrations", "cache:responseTime"):  # the cache is a table here
            assert check(body, name) | {"time": None} == {
                "componentType": "component",
                "status": "fail",
                "output": "not checked: no database",
                "time": None,
            }
        assert check(body, "outbox:oldestAge")["status"] == "warn"
        assert check(body, "uploads:writable")["status"] == "pass"
        metrics = requests.get(f"{server.url}/metrics", timeout=30).text
    finally:
        stop_app_server(server)
    # The failed connections were counted for the DB-errors alert.
    [value] = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("bookdesk_db_errors_total ")
    ]
    assert value >= 1


@pytest.fixture
def connection_vendor():
    from django.db import connection

    return connection.vendor


def test_the_operator_networks_rule_is_shared_with_metrics(client, db, settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("203.0.113.0/24")]
    assert "checks" in ready(client, REMOTE_ADDR=PUBLIC)[1]
    assert "checks" not in ready(client, REMOTE_ADDR="127.0.0.1")[1]
