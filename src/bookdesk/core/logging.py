"""Logging: one JSON object per line in staging/production, readable lines on a laptop."""

from __future__ import annotations

import logging
import logging.config
import re

import structlog

from bookdesk.core.requestid import current_request_id

# Keys whose values never reach a log line, whatever logs them.
SECRET_KEYS = frozenset(
    {
        "password",
        "code",
        "otp",
        "token",
        "secret",
        "session_key",
        "sessionid",
        "authorization",
        "cookie",
        "challenge",
        "api_key",
        "otp_code",
        "verification_code",
        "raw_token",
        "new_password",
        "old_password",
    }
)
# A key ending in one of these words is secret too ("csrf_token", "smtp_password").
SECRET_SUFFIXES = frozenset(
    {"password", "passwd", "token", "secret", "otp", "sessionid", "cookie", "authorization"}
)
_WORDS = re.compile(r"[^a-z0-9]+")
REDACTED = "[redacted]"
# Secrets that can hide inside text, such as an error message quoting a header: a bearer
# credential, and an API token by its shape (accounts/tokens.py: "bd_" + 43 characters).
_SECRET_TEXT = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+|\bbd_[A-Za-z0-9_-]{20,}")


def _scrub_text(text: str) -> str:
    if "bd_" not in text and "earer" not in text and "EARER" not in text:  # the usual case
        return text
    return _SECRET_TEXT.sub(lambda m: f"{m.group(1)}{REDACTED}" if m.group(1) else REDACTED, text)


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in SECRET_KEYS:
        return True
    words = _WORDS.split(lowered)
    return words[-1] in SECRET_SUFFIXES or "password" in words


def _scrub(value, depth: int = 0):
    # Secrets also hide one level down, e.g. a form's data logged as a dict.
    if depth > 3:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) else _scrub(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, depth + 1) for v in value)
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def _add_request_id(logger, method_name, event_dict):
    if "request_id" not in event_dict:
        request_id = current_request_id()
        if request_id:
            event_dict["request_id"] = request_id
    return event_dict


def redact(logger, method_name, event_dict):
    """Replace the value of every secret-named key (up to three levels down) and any
    bearer credential or API token written inside text, the message included."""
    for key, value in list(event_dict.items()):
        if is_secret_key(key):
            event_dict[key] = REDACTED
        elif isinstance(value, dict | list | tuple | str):
            event_dict[key] = _scrub(value)
    return event_dict


def _count(logger, method_name, event_dict):
    try:
        from bookdesk.core.metrics import LOG_EVENTS

        LOG_EVENTS.labels(level=event_dict.get("level", method_name)).inc()
    except Exception:  # noqa: S110 - counting must never break logging
        pass
    return event_dict


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        redact,
        _count,
    ]


def logging_config(*, level: str = "INFO", fmt: str = "json") -> dict:
    """The dictConfig for the stdlib side: every record, ours or a library's, one line."""
    shared = _shared_processors()
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": shared,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.EventRenamer("message"),
                    renderer,
                ],
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # The request log line is ours (RequestIdMiddleware); Django's repeats it.
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
        },
    }


def configure_logging(*, level: str = "INFO", fmt: str = "json") -> None:
    logging.config.dictConfig(logging_config(level=level, fmt=fmt))
    # Python warnings would otherwise print bare lines between the JSON ones.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            # Below LOG_LEVEL an event is dropped before it is counted or rendered.
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
