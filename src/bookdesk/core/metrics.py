"""Bookdesk's own Prometheus metrics (names are a contract with deploy/monitoring/)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

AUTH_FAILURES = Counter(
    "bookdesk_auth_failures", "Failed sign-in steps, by stage (password, otp).", ["stage"]
)
AUTH_LOCKOUTS = Counter("bookdesk_auth_lockouts", "Accounts or addresses locked out.")
OTP_EMAILS = Counter(
    "bookdesk_otp_emails", "Sign-in code emails, by result (sent, failed).", ["result"]
)
EMAILS = Counter("bookdesk_emails", "Notification emails, by kind and result.", ["kind", "result"])
BOOKINGS = Counter(
    "bookdesk_bookings", "Booking actions (requested, approved, rejected, cancelled).", ["action"]
)
DB_ERRORS = Counter("bookdesk_db_errors", "Database connection and operational errors.")
DB_SLOW_QUERIES = Counter("bookdesk_db_slow_queries", "Queries slower than the threshold.")
LOG_EVENTS = Counter("bookdesk_log_events", "Log events, by level.", ["level"])
# /metrics computes these two at scrape time (ops/collectors.py) and drops the per-process
# copies; they stay here for a worker run without multiprocess mode (its own registry).
OUTBOX_PENDING = Gauge(
    "bookdesk_outbox_pending", "Emails waiting in the outbox.", multiprocess_mode="max"
)
OUTBOX_OLDEST_AGE = Gauge(
    "bookdesk_outbox_oldest_age_seconds",
    "Age of the oldest email waiting in the outbox.",
    multiprocess_mode="max",
)
