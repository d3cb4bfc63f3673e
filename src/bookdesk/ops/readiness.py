"""/readyz: can this instance serve traffic? The IETF health-check format (health+json).

Each check yields pass, warn or fail; the worst one is the answer, and only fail turns it
into 503, which takes the instance out of the load balancer. So fail is kept for what this
instance cannot work without (database, schema, cache, writable uploads, a nearly full
disk). A slow mail relay or an old outbox backlog is a warn: every instance shares them, so
pulling instances out of rotation would not help, and the alerts on the metrics page someone.

Only operators (the /metrics rule, `operator_caller`) see the checks; anyone else gets the
status alone, because the details name hosts, versions and error messages.
"""

from __future__ import annotations

import contextlib
import shutil
import smtplib
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse

from bookdesk.attachments.storage import uploads_root_checked
from bookdesk.core.dbmetrics import count_db_error
from bookdesk.core.mail import backend_is
from bookdesk.ops.access import operator_caller

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}
SMTP_PROBE_TIMEOUT = 3.0
DB_STATEMENT_TIMEOUT_MS = 2000
MIB = 1024 * 1024

# Once every migration this code knows is applied, that stays true for the life of the
# process (a rollback of the schema under running code is not a case to optimise for).
_migrations_applied = False
# Used when the shared cache is down, so a broken cache cannot turn into a probe per request.
_local_smtp: tuple[float, dict] | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _result(component_type: str, status: str, **fields) -> dict:
    return {"componentType": component_type, "status": status, "time": _now(), **fields}


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()[:300]


def check_database() -> dict:
    started = time.monotonic()
    try:
        if connection.vendor == "postgresql":
            # SET LOCAL ends with the transaction: the pooled connection keeps no timeout.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {DB_STATEMENT_TIMEOUT_MS}")
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except DatabaseError as exc:
        count_db_error(exc)
        return _result("datastore", FAIL, output=_error(exc))
    elapsed = (time.monotonic() - started) * 1000
    return _result("datastore", PASS, observedValue=round(elapsed, 1), observedUnit="ms")


def check_migrations() -> dict:
    global _migrations_applied
    if _migrations_applied:
        return _result("datastore", PASS, observedValue=0, observedUnit="unapplied")
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        count_db_error(exc)
        return _result("datastore", FAIL, output=_error(exc))
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        return _result(
            "datastore",
            FAIL,
            observedValue=len(plan),
            observedUnit="unapplied",
            output=f"not applied: {names}",
        )
    _migrations_applied = True
    return _result("datastore", PASS, observedValue=0, observedUnit="unapplied")


def check_cache() -> dict:
    key = f"bookdesk:readyz:{uuid.uuid4().hex}"
    started = time.monotonic()
    try:
        cache.set(key, "ok", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # each backend raises its own kind
        return _result("component", FAIL, output=_error(exc))
    if value != "ok":
        return _result("component", FAIL, output="a value written was not read back")
    elapsed = (time.monotonic() - started) * 1000
    return _result("component", PASS, observedValue=round(elapsed, 1), observedUnit="ms")


def check_uploads_writable() -> dict:
    try:
        root = uploads_root_checked()
        with tempfile.NamedTemporaryFile(dir=root, prefix=".readyz-", delete=True) as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError as exc:
        return _result("system", FAIL, output=_error(exc))
    return _result("system", PASS)


def check_uploads_free_space() -> dict:
    try:
        usage = shutil.disk_usage(uploads_root_checked())
    except OSError as exc:
        return _result("system", FAIL, output=_error(exc))
    free_mib = usage.free / MIB
    if free_mib < settings.READYZ_UPLOADS_FAIL_FREE_MB:
        status = FAIL
    elif free_mib < settings.READYZ_UPLOADS_WARN_FREE_MB:
        status = WARN
    else:
        status = PASS
    return _result("system", status, observedValue=usage.free, observedUnit="bytes")


def check_uploads_bucket() -> dict:
    """With UPLOADS_STORAGE=s3: the bucket answers (HEAD), probed at most once per
    READYZ_S3_PROBE_SECONDS and shared through the cache like the relay's probe. A bucket
    that does not answer is warn, not fail: every instance shares it, so taking instances
    out of the balancer would not help, and the rest of the site still works."""
    from bookdesk.attachments.storage import object_store

    key = f"bookdesk:readyz:s3:{settings.UPLOADS_S3_BUCKET}"
    try:
        cached = cache.get(key)
    except Exception:  # the cache check reports the cache
        cached = None
    if cached is not None:
        return cached
    store = object_store()
    started = time.monotonic()
    try:
        store.connection.meta.client.head_bucket(Bucket=store.bucket_name)
    except Exception as exc:  # botocore raises many kinds; each is "the bucket did not answer"
        result = _result("component", WARN, output=_error(exc))
    else:
        elapsed = (time.monotonic() - started) * 1000
        result = _result("component", PASS, observedValue=round(elapsed, 1), observedUnit="ms")
    with contextlib.suppress(Exception):  # the cache check reports the cache
        cache.set(key, result, timeout=settings.READYZ_S3_PROBE_SECONDS)
    return result


def _probe_smtp() -> dict:
    timeout = min(settings.EMAIL_TIMEOUT, SMTP_PROBE_TIMEOUT)
    client = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    started = time.monotonic()
    try:
        with client(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout) as smtp:
            code, reply = smtp.ehlo()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
            code, reply = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, reply)
    except (OSError, smtplib.SMTPException) as exc:
        return _result("component", WARN, output=_error(exc))
    elapsed = (time.monotonic() - started) * 1000
    return _result("component", PASS, observedValue=round(elapsed, 1), observedUnit="ms")


def check_smtp() -> dict:
    """The relay answers EHLO and NOOP; probed at most once per READYZ_SMTP_PROBE_SECONDS.

    The result is shared through the cache, so a fleet of instances probed every few
    seconds by a load balancer still opens about one SMTP connection a minute each.
    """
    global _local_smtp
    if not backend_is(SmtpBackend):
        backend = settings.EMAIL_BACKEND.rsplit(".", 1)[-1]
        return _result("component", PASS, output=f"no relay in use ({backend})")
    period = settings.READYZ_SMTP_PROBE_SECONDS
    key = f"bookdesk:readyz:smtp:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        cached = cache.get(key)
        if cached is not None:
            return cached
        if not cache.add(f"{key}:probing", 1, timeout=period):
            return _result("component", WARN, output="first probe still running")
        result = _probe_smtp()
        cache.set(key, result, timeout=period)
        return result
    except Exception:  # noqa: S110 - the cache check reports the cache; probe without it
        pass
    if _local_smtp is not None and time.monotonic() - _local_smtp[0] < period:
        return _local_smtp[1]
    result = _probe_smtp()
    _local_smtp = (time.monotonic(), result)
    return result


def check_outbox() -> dict:
    from bookdesk.notifications.selectors import outbox_stats

    try:
        backlog = outbox_stats()
    except Exception as exc:  # a database outage is reported by the database check
        return _result("component", WARN, output=_error(exc))
    limit = settings.READYZ_OUTBOX_WARN_MINUTES * 60
    status = WARN if backlog.oldest_age_seconds > limit else PASS
    return _result(
        "component",
        status,
        observedValue=round(backlog.oldest_age_seconds),
        observedUnit="s",
        output=f"{backlog.pending} waiting",
    )


CHECKS: dict[str, Callable[[], dict]] = {
    "database:responseTime": check_database,
    "database:migrations": check_migrations,
    "cache:responseTime": check_cache,
    "uploads:writable": check_uploads_writable,
    "uploads:freeSpace": check_uploads_free_space,
    "smtp:connection": check_smtp,
    "outbox:oldestAge": check_outbox,
}


def _needs_database(name: str) -> bool:
    if name in {"database:migrations", "outbox:oldestAge"}:
        return True
    return name == "cache:responseTime" and "DatabaseCache" in settings.CACHES["default"]["BACKEND"]


def checks() -> dict[str, Callable[[], dict]]:
    """The checks for this configuration: a bucket replaces the uploads disk's two."""
    if settings.UPLOADS_STORAGE != "s3":
        return CHECKS
    selected = {k: v for k, v in CHECKS.items() if not k.startswith("uploads:")}
    selected["uploads:bucket"] = check_uploads_bucket
    return selected


def run_checks() -> dict[str, dict]:
    results: dict[str, dict] = {}
    for name, check in checks().items():
        if _needs_database(name) and results["database:responseTime"]["status"] == FAIL:
            # Asking an unreachable database again would only wait for the timeout again.
            status = WARN if name == "outbox:oldestAge" else FAIL
            results[name] = _result("component", status, output="not checked: no database")
            continue
        try:
            results[name] = check()
        except Exception as exc:  # one broken check must not hide the others
            results[name] = _result("component", FAIL, output=_error(exc))
    return results


def overall(results: dict[str, dict]) -> str:
    return max((r["status"] for r in results.values()), key=_RANK.__getitem__, default=PASS)


def readiness_response(request):
    results = run_checks()
    status = overall(results)
    if operator_caller(request):
        body = {
            "status": status,
            "version": settings.VERSION,
            "releaseId": f"{settings.VERSION}+{settings.COMMIT}",
            "serviceId": "bookdesk",
            "checks": {name: [result] for name, result in results.items()},
        }
    else:
        body = {"status": status}
    response = JsonResponse(
        body, status=503 if status == FAIL else 200, content_type="application/health+json"
    )
    response["Cache-Control"] = "no-store"
    return response
