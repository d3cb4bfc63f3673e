"""Django settings for Bookdesk, read from the environment only (see docs/configuration.md).

Development is the default and needs nothing set. Staging and production refuse to start
when a value is missing or unsafe: `check_deploy_config` raises ConfigError with one line.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bookdesk import __version__
from bookdesk.config import (
    SMTP_BACKEND,
    ConfigError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    is_site_url,
    parse_database_url,
    parse_email_url,
    parse_networks,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(PROJECT_DIR / "var")))

ENVIRONMENT = env_str("BOOKDESK_ENV", "development")
if ENVIRONMENT not in {"development", "staging", "production"}:
    raise ConfigError(
        f"BOOKDESK_ENV must be development, staging or production, not {ENVIRONMENT!r}"
    )
IS_DEPLOYED = ENVIRONMENT in {"staging", "production"}

DEBUG = env_bool("DEBUG", default=False)
VERSION = __version__
COMMIT = env_str("BOOKDESK_COMMIT", "unknown")


def _development_secret_key() -> str:
    # No key is kept in the repository: a laptop gets a random one under var/, made once.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_str("SECRET_KEY") or (None if IS_DEPLOYED else _development_secret_key())

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if IS_DEPLOYED else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Requests from these addresses may tell us the client address in X-Forwarded-For.
TRUSTED_PROXIES = parse_networks("TRUSTED_PROXIES", env_list("TRUSTED_PROXIES", []))

_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": parse_database_url(
        _database_url or "sqlite:///var/bookdesk.sqlite3", base_dir=PROJECT_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and _database_url is None:
    DATABASES["default"]["NAME"] = str(VAR_DIR / "bookdesk.sqlite3")
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # libpq waits for an unreachable host as long as TCP does (minutes), holding a request
    # thread (and /readyz) each time; a few seconds is plenty on a working network.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
    # Every other wait on the database is bounded too (docs/configuration.md). A stalled
    # network (packets dropped, not refused) otherwise holds a request thread until the
    # kernel gives up on the connection, 15 minutes or more, and gunicorn's gthread
    # workers do not kill a thread that is stuck: these are what free it.
    DATABASES["default"]["OPTIONS"].update(
        {
            # Sent data not acknowledged within this long: the connection is dead.
            "tcp_user_timeout": env_int("DATABASE_TCP_USER_TIMEOUT", 10) * 1000,
            # An idle connection (CONN_MAX_AGE keeps them) is probed, so a dead one is
            # noticed in about idle + interval x count seconds, not hours.
            "keepalives": 1,
            "keepalives_idle": env_int("DATABASE_KEEPALIVES_IDLE", 10),
            "keepalives_interval": 2,
            "keepalives_count": 3,
            # Server-side limits: a slow statement or a wait for a lock ends with an error
            # the app answers as 503 (core/errormap.py) instead of holding the thread.
            "options": "-c statement_timeout={} -c lock_timeout={}".format(
                env_int("DATABASE_STATEMENT_TIMEOUT", 20) * 1000,
                env_int("DATABASE_LOCK_TIMEOUT", 5) * 1000,
            ),
        }
    )
_test_name = env_str("TEST_DATABASE_NAME")
if _test_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_name}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_prometheus",
    "ninja",
    "bookdesk.accounts",
    "bookdesk.audit",
    "bookdesk.notifications",
    "bookdesk.resources",
    "bookdesk.bookings",
    "bookdesk.attachments",
    "bookdesk.exports",
    "bookdesk.ops",
    "bookdesk.api",
]

MIDDLEWARE = [
    "bookdesk.ops.middleware.HealthMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "bookdesk.core.requestid.RequestIdMiddleware",
    "bookdesk.api.middleware.ApiErrorShapeMiddleware",
    # Before the session is read: a NUL in its cookie would reach the database too.
    "bookdesk.core.textinput.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "bookdesk.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bookdesk.core.pages.DomainErrorMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "bookdesk.urls"
WSGI_APPLICATION = "bookdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bookdesk.ops.context.site",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60

# Sessions: idle timeout by cookie age refreshed on every request; absolute lifetime is
# enforced by SessionLifetimeMiddleware from the time the password step succeeded.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60)
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 90)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = IS_DEPLOYED
CSRF_COOKIE_SECURE = IS_DEPLOYED
# The API's JavaScript reads the CSRF cookie to send it back in X-CSRFToken.
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "bookdesk.api.errors.csrf_failure"

# Sign-in second factor and lockout (see accounts/ and docs/configuration.md).
OTP_CODE_TTL = timedelta(minutes=5)
OTP_MAX_WRONG_CODES = 5
OTP_RESEND_COOLDOWN = timedelta(seconds=60)
OTP_MAX_EMAILS_PER_HOUR = 5
LOCKOUT_THRESHOLD = env_int("LOCKOUT_THRESHOLD", 5)
LOCKOUT_IP_THRESHOLD = env_int("LOCKOUT_IP_THRESHOLD", 20)
LOCKOUT_BASE_COOLOFF = timedelta(minutes=env_int("LOCKOUT_COOLOFF_MINUTES", 15))
LOCKOUT_MAX_COOLOFF = timedelta(hours=12)
OTP_TOTP_ISSUER = "Bookdesk"

# Email. The code email is sent inside the request (the user waits for it), so the
# timeout bounds how long a sign-in can hang on a slow relay.
_email = parse_email_url(env_str("EMAIL_URL"))
EMAIL_BACKEND = _email.backend
EMAIL_HOST = _email.host
EMAIL_PORT = _email.port
EMAIL_HOST_USER = _email.user
EMAIL_HOST_PASSWORD = _email.password
EMAIL_USE_TLS = _email.use_tls
EMAIL_USE_SSL = _email.use_ssl
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Bookdesk <bookdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Mail links and calendar UIDs are built from it: staging and production must name it.
_site_url = env_str("SITE_URL", None)
SITE_URL = (_site_url or "http://127.0.0.1:8000").rstrip("/")
# The outbox worker (bookdesk worker): retries with exponential backoff, then gives up.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12)
OUTBOX_RETRY_BASE_SECONDS = env_float("OUTBOX_RETRY_BASE_SECONDS", 30.0)
OUTBOX_RETRY_MAX_SECONDS = env_float("OUTBOX_RETRY_MAX_SECONDS", 3600.0)
WORKER_POLL_SECONDS = env_float("WORKER_POLL_SECONDS", 1.0)
WORKER_PERIODIC_SECONDS = env_float("WORKER_PERIODIC_SECONDS", 60.0)
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 30)

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bookdesk_cache",
        }
    }

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not IS_DEPLOYED

UPLOADS_ROOT = Path(env_str("UPLOADS_ROOT", str(VAR_DIR / "uploads")))
# Where attachments are kept: "filesystem" (UPLOADS_ROOT: a local disk, or a volume shared
# by several app hosts) or "s3" (an S3-compatible bucket through django-storages, which
# several app hosts share without a mount; downloads are short-lived signed URLs).
UPLOADS_STORAGE = env_str("UPLOADS_STORAGE", "filesystem")
if UPLOADS_STORAGE not in {"filesystem", "s3"}:
    raise ConfigError(f"UPLOADS_STORAGE must be filesystem or s3, not {UPLOADS_STORAGE!r}")
UPLOADS_S3_BUCKET = env_str("UPLOADS_S3_BUCKET", "")
UPLOADS_S3_URL_SECONDS = env_int("UPLOADS_S3_URL_SECONDS", 60)
READYZ_S3_PROBE_SECONDS = env_int("READYZ_S3_PROBE_SECONDS", 60)
if UPLOADS_STORAGE == "s3":
    if not UPLOADS_S3_BUCKET:
        raise ConfigError("UPLOADS_S3_BUCKET is required with UPLOADS_STORAGE=s3")
    if not 1 <= UPLOADS_S3_URL_SECONDS <= 3600:
        raise ConfigError("UPLOADS_S3_URL_SECONDS must be between 1 and 3600")
    STORAGES["uploads"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": UPLOADS_S3_BUCKET,
            "location": env_str("UPLOADS_S3_PREFIX", "uploads"),
            "region_name": env_str("UPLOADS_S3_REGION"),
            # An S3-compatible service other than AWS (MinIO, Ceph, a test server).
            "endpoint_url": env_str("UPLOADS_S3_ENDPOINT_URL"),
            # Empty: boto3's own chain (on AWS the instance role; no key on the host).
            "access_key": env_str("UPLOADS_S3_ACCESS_KEY_ID"),
            "secret_key": env_str("UPLOADS_S3_SECRET_ACCESS_KEY"),
            "signature_version": "s3v4",
            # Private objects in a bucket that enforces its owner (no ACLs).
            "default_acl": None,
            # Stored names are random UUIDs: no existence check (a HEAD) before each write.
            "file_overwrite": True,
            "querystring_auth": True,
            "querystring_expire": UPLOADS_S3_URL_SECONDS,
            "object_parameters": {"CacheControl": "private, no-store"},
        },
    }
# Attachments (bookdesk.attachments): limits are enforced while the body streams in.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_PER_BOOKING = env_int("ATTACHMENT_MAX_PER_BOOKING", 10)
ATTACHMENT_USER_QUOTA_BYTES = env_int("ATTACHMENT_USER_QUOTA_BYTES", 200 * 1024 * 1024)
# Behind nginx, e.g. "/_protected_uploads/": files go out by X-Accel-Redirect.
ATTACHMENTS_X_ACCEL_PREFIX = env_str("ATTACHMENTS_X_ACCEL_PREFIX", "")
FILE_UPLOAD_HANDLERS = ["bookdesk.attachments.uploadhandlers.LimitedUploadHandler"]
# Uploaded files always spool to disk (the handler above); form fields stay small.
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Exports (bookdesk.exports): bigger ones from the UI run as background jobs.
EXPORTS_DIR = Path(env_str("EXPORTS_DIR", str(VAR_DIR / "exports")))
EXPORT_BACKGROUND_ROWS = env_int("EXPORT_BACKGROUND_ROWS", 20000)

# Security headers. HSTS and the SSL redirect are only meaningful behind TLS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if IS_DEPLOYED:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Metrics: who may scrape /metrics (loopback by default), or with a bearer token.
METRICS_ALLOWED_NETWORKS = parse_networks(
    "METRICS_ALLOWED_NETWORKS", env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
)
METRICS_TOKEN = env_str("METRICS_TOKEN")
DB_SLOW_QUERY_SECONDS = env_float("DB_SLOW_QUERY_SECONDS", 0.5)
# The background worker's metrics files, added to /metrics (deploy/bin/bookdesk-web sets it).
WORKER_METRICS_DIR = env_str("WORKER_METRICS_DIR")
# /readyz: uploads free space warns, then fails, under these; a backlog this old warns.
READYZ_UPLOADS_WARN_FREE_MB = env_int("READYZ_UPLOADS_WARN_FREE_MB", 1024)
READYZ_UPLOADS_FAIL_FREE_MB = env_int("READYZ_UPLOADS_FAIL_FREE_MB", 100)
READYZ_OUTBOX_WARN_MINUTES = env_int("READYZ_OUTBOX_WARN_MINUTES", 15)
READYZ_SMTP_PROBE_SECONDS = env_int("READYZ_SMTP_PROBE_SECONDS", 60)
PROMETHEUS_EXPORT_MIGRATIONS = False

SENTRY_DSN = env_str("SENTRY_DSN")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "json" if IS_DEPLOYED else "console")
LOGGING_CONFIG = None  # bookdesk.core.logging configures logging once, below.

# The published password of the demo accounts, which exist only in development.
DEMO_PASSWORD = "bookdesk-demo"  # noqa: S105

# Asking browsers to preload HSTS binds every subdomain of the organisation's domain for
# months and cannot be withdrawn quickly, so it is the domain owner's explicit choice
# (SECURE_HSTS_PRELOAD=true), not a default; the check that nags about it is silenced.
SILENCED_SYSTEM_CHECKS: list[str] = (
    [] if globals().get("SECURE_HSTS_PRELOAD") else ["security.W021"]
)


def check_deploy_config() -> None:
    """Refuse to start staging/production with a missing or unsafe value."""
    if not IS_DEPLOYED:
        return
    if DEBUG:
        raise ConfigError(f"DEBUG must be off in {ENVIRONMENT}")
    if not SECRET_KEY:
        raise ConfigError(f"SECRET_KEY (or SECRET_KEY_FILE) is required in {ENVIRONMENT}")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "insecure" in SECRET_KEY:
        raise ConfigError("SECRET_KEY is too weak: use at least 50 random characters")
    if not ALLOWED_HOSTS:
        raise ConfigError(f"ALLOWED_HOSTS is required in {ENVIRONMENT}")
    if "*" in ALLOWED_HOSTS:
        raise ConfigError("ALLOWED_HOSTS must name the site's hosts, not '*'")
    if _database_url is None:
        raise ConfigError(f"DATABASE_URL is required in {ENVIRONMENT}")
    if EMAIL_BACKEND != SMTP_BACKEND:
        raise ConfigError(f"EMAIL_URL must point at an SMTP relay in {ENVIRONMENT}")
    if not _site_url:
        raise ConfigError(
            f"SITE_URL is required in {ENVIRONMENT}: mail links and calendar UIDs use it"
        )
    if not is_site_url(SITE_URL):
        raise ConfigError("SITE_URL must be an http(s) address with a host, e.g. https://x.example")


check_deploy_config()

from bookdesk.core.logging import configure_logging  # noqa: E402

configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)

if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        release=f"bookdesk@{VERSION}+{COMMIT}",
        send_default_pii=False,
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
