"""/metrics: who may read it, and what it says (in one process; see test_metrics_gunicorn)."""

from __future__ import annotations

import ipaddress
import re
import shutil
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

PUBLIC = "203.0.113.7"


def scrape(client, **extra) -> dict[str, float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


@pytest.fixture
def uploads(settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    settings.UPLOADS_ROOT.mkdir()
    return settings.UPLOADS_ROOT


def test_loopback_may_scrape(client, db, uploads):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200


def test_a_public_address_may_not(client, db):
    response = client.get("/metrics", REMOTE_ADDR=PUBLIC)
    assert response.status_code == 403
    assert b"bookdesk_" not in response.content


def test_a_forged_forwarded_for_opens_nothing(client, db):
    response = client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 403


def test_a_public_client_relayed_by_a_trusted_proxy_is_judged_by_its_own_address(
    client, db, settings
):
    # nginx on loopback relays everyone; the request must not inherit nginx's address.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    response = client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {PUBLIC}"
    )
    assert response.status_code == 403


def test_the_token_opens_it_from_anywhere(client, db, settings, uploads):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    response = client.get(
        "/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"
    )
    assert response.status_code == 200


def test_a_wrong_token_does_not(client, db, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    for header in ("Bearer s3cret-scrape-tokeX", "Bearer ", "s3cret-scrape-token"):
        response = client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION=header)
        assert response.status_code == 403, header


def test_no_token_configured_means_no_empty_bearer_gets_in(client, db, settings):
    settings.METRICS_TOKEN = None
    response = client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_other_networks_can_be_allowed(client, db, settings, uploads):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("203.0.113.0/24")]
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_build_info_names_version_and_commit(client, db, settings, uploads):
    settings.COMMIT = "abc1234"
    samples = scrape(client)
    key = f"bookdesk_build_info{{commit=abc1234,version={settings.VERSION}}}"
    assert samples[key] == 1


def test_uploads_disk_figures_are_those_of_the_uploads_file_system(client, db, uploads):
    samples = scrape(client)
    usage = shutil.disk_usage(uploads)
    # The same file system, read a moment apart: equal totals, plausible parts.
    used, free = samples["bookdesk_uploads_used_bytes{}"], samples["bookdesk_uploads_free_bytes{}"]
    assert used > 0 and free > 0
    assert abs((used + free) - (usage.used + usage.free)) < 0.01 * usage.total


def test_a_laptop_without_an_uploads_directory_still_reports_its_disk(
    client, db, settings, tmp_path
):
    # Before the first upload the directory does not exist; the disk alerts must still see
    # figures (in development the directory is made, as the readiness check does).
    settings.UPLOADS_ROOT = tmp_path / "not-yet"
    samples = scrape(client)
    assert samples["bookdesk_uploads_free_bytes{}"] > 0
    assert settings.UPLOADS_ROOT.is_dir()


def test_a_deployed_host_with_its_uploads_volume_missing_reports_no_figures(
    client, db, settings, tmp_path
):
    # Making the directory there would hide a missing mount: no sample, and /readyz fails.
    settings.IS_DEPLOYED = True
    settings.UPLOADS_ROOT = tmp_path / "unmounted"
    samples = scrape(client)
    assert "bookdesk_uploads_free_bytes{}" not in samples
    assert not settings.UPLOADS_ROOT.exists()


def test_outbox_backlog_is_counted_when_scraped(client, db, uploads):
    from bookdesk.notifications.models import OutboxMessage, OutboxStatus

    assert scrape(client)["bookdesk_outbox_pending{}"] == 0
    assert scrape(client)["bookdesk_outbox_oldest_age_seconds{}"] == 0
    OutboxMessage.objects.create(
        kind="test",
        to=["a@example.com"],
        subject="s",
        text="t",
        created_at=timezone.now() - timedelta(minutes=30),
    )
    OutboxMessage.objects.create(kind="test", to=["a@example.com"], subject="s", text="t")
    OutboxMessage.objects.create(
        kind="test",
        to=["a@example.com"],
        subject="s",
        text="t",
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        created_at=timezone.now() - timedelta(days=2),
    )
    samples = scrape(client)
    assert samples["bookdesk_outbox_pending{}"] == 2
    assert 30 * 60 <= samples["bookdesk_outbox_oldest_age_seconds{}"] < 31 * 60


def test_each_name_appears_once(client, db, uploads):
    from bookdesk.core.metrics import OUTBOX_PENDING

    OUTBOX_PENDING.set(99)  # a per-process copy, which the scrape-time figure replaces
    body = client.get("/metrics").content.decode()
    types = re.findall(r"^# TYPE (\S+) ", body, flags=re.M)
    assert len(types) == len(set(types))
    assert "bookdesk_outbox_pending 99" not in body


def test_bookdesk_counters_are_exported_with_their_contract_names(client, db, uploads):
    from bookdesk.core import metrics

    metrics.AUTH_FAILURES.labels(stage="otp").inc()
    metrics.OTP_EMAILS.labels(result="failed").inc()
    metrics.EMAILS.labels(kind="booking_decided", result="sent").inc()
    metrics.BOOKINGS.labels(action="requested").inc()
    samples = scrape(client)
    for name in (
        "bookdesk_auth_failures_total{stage=otp}",
        "bookdesk_auth_lockouts_total{}",
        "bookdesk_otp_emails_total{result=failed}",
        "bookdesk_emails_total{kind=booking_decided,result=sent}",
        "bookdesk_bookings_total{action=requested}",
        "bookdesk_db_errors_total{}",
        "bookdesk_db_slow_queries_total{}",
    ):
        assert name in samples, name


def test_http_and_database_metrics_come_from_django_prometheus(client, db, uploads):
    client.get("/api/v1/no-such-thing")
    samples = scrape(client)
    assert any(
        k.startswith("django_http_responses_total_by_status_view_method_total{")
        and "status=404" in k
        for k in samples
    )
    assert any(
        k.startswith("django_http_requests_latency_seconds_by_view_method_bucket{") for k in samples
    )
    vendor = connection.vendor
    assert samples[f"django_db_execute_total{{alias=default,vendor={vendor}}}"] > 0


def test_a_failing_query_counts_as_a_database_error(client, db, uploads):
    from bookdesk.core.dbmetrics import observe_query

    before = scrape(client)["bookdesk_db_errors_total{}"]

    def broken(sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        observe_query(broken, "SELECT 1", (), False, {})
    assert scrape(client)["bookdesk_db_errors_total{}"] == before + 1


def test_every_connection_counts_database_errors(db, client, uploads):
    from bookdesk.core.dbmetrics import observe_query

    connection.ensure_connection()
    assert observe_query in connection.execute_wrappers
    before = scrape(client)["bookdesk_db_errors_total{}"]
    if connection.vendor == "postgresql":
        # A real server-side OperationalError: the statement is cancelled by its timeout.
        from django.db import transaction

        with pytest.raises(OperationalError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 10")
            cursor.execute("SELECT pg_sleep(1)")
    else:
        with pytest.raises(OperationalError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
    assert scrape(client)["bookdesk_db_errors_total{}"] == before + 1


def test_queries_over_the_threshold_count_as_slow(db, client, settings, uploads):
    before = scrape(client)["bookdesk_db_slow_queries_total{}"]
    settings.DB_SLOW_QUERY_SECONDS = 0.05
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(0.1)")
        else:
            # SQLite has no sleep: a recursive count that takes well over 50 ms.
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
                " SELECT count(*) FROM n"
            )
    settings.DB_SLOW_QUERY_SECONDS = 0.5
    assert scrape(client)["bookdesk_db_slow_queries_total{}"] == before + 1


def test_log_events_are_counted_by_level(client, db, uploads):
    import structlog

    before = scrape(client).get("bookdesk_log_events_total{level=warning}", 0)
    structlog.get_logger("tests.ops").warning("something odd", thing="x")
    import logging

    logging.getLogger("tests.ops.stdlib").warning("stdlib says so too")
    assert scrape(client)["bookdesk_log_events_total{level=warning}"] == before + 2
