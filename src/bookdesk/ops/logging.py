"""Logging: one JSON object per line in staging/production, readable lines on a laptop."""

from __future__ import annotations

import logging
import logging.config

import structlog

from bookdesk.ops.requestid import current_request_id

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
    }
)


def _add_request_id(logger, method_name, event_dict):
    if "request_id" not in event_dict:
        request_id = current_request_id()
        if request_id:
            event_dict["request_id"] = request_id
    return event_dict


def _redact(logger, method_name, event_dict):
    for key in list(event_dict):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def _count(logger, method_name, event_dict):
    try:
        from bookdesk.ops.metrics import LOG_EVENTS

        LOG_EVENTS.labels(level=event_dict.get("level", method_name)).inc()
    except Exception:  # noqa: S110 - counting must never break logging
        pass
    return event_dict


def configure_logging(*, level: str = "INFO", fmt: str = "json") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        _redact,
        _count,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.config.dictConfig(
        {
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
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
