"""Typed readers for environment variables.

Settings come from the environment only (12-factor). Every variable read here is documented
in docs/configuration.md. Secrets may also be given as ``NAME_FILE`` pointing at a file, so
that they can come from a mounted secret instead of the process environment.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import overload
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A configuration value is missing or unsafe; the message is one line for the operator."""


# With a default the value is always a string; without one it may be missing (None).
@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_path} cannot be read: {exc.strerror}") from None
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = env_str(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_networks(
    name: str, values: list[str]
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ConfigError(f"{name} has {value!r}, which is not an address or network") from None
    return networks


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a Django dict."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "sqlite":
        # sqlite:///relative/file and sqlite:////absolute/file, as is customary.
        path = Path(unquote(parts.path)[1:])
        if not path.is_absolute():
            path = base_dir / path
        return {
            # django-prometheus' wrappers of Django's backends count queries, their latency
            # and connection errors; behaviour (IMMEDIATE included) is Django's own.
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": str(path),
            # IMMEDIATE takes the write lock at BEGIN, so two writers never both read a
            # free slot and then both insert: the conflict check and the insert are serial.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options = {}
        if "sslmode" in query:
            options["sslmode"] = query["sslmode"]
        return {
            "ENGINE": "django_prometheus.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "bookdesk",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(query.get("conn_max_age", 60)),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported (use postgres:// or sqlite://)"
    )


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEV_MAILBOX_BACKEND = "bookdesk.notifications.devmailbox.DevMailboxBackend"


def is_site_url(url: str) -> bool:
    """An absolute http(s) address with a host (what links in mail must start with)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def parse_email_url(url: str | None) -> EmailConfig:
    """``smtp://user:pass@host:587`` (STARTTLS), ``smtps://…:465`` (implicit TLS),
    ``smtp://host:25?tls=false`` (plain, for a local relay or test server),
    ``mailbox:`` (the development mailbox), ``console:``."""
    if not url:
        return EmailConfig(backend=DEV_MAILBOX_BACKEND)
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "mailbox":
        return EmailConfig(backend=DEV_MAILBOX_BACKEND)
    if scheme == "console":
        return EmailConfig(backend="django.core.mail.backends.console.EmailBackend")
    if scheme in {"smtp", "smtps", "submission"}:
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        use_ssl = scheme == "smtps" or query.get("ssl") in {"1", "true", "yes"}
        default_tls = scheme == "submission" or (parts.port == 587)
        tls_value = query.get("tls")
        use_tls = (tls_value in {"1", "true", "yes"}) if tls_value is not None else default_tls
        if use_ssl and use_tls:
            raise ConfigError("EMAIL_URL cannot ask for both ssl and tls (STARTTLS); pick one")
        if not parts.hostname:
            raise ConfigError("EMAIL_URL has no host")
        return EmailConfig(
            backend=SMTP_BACKEND,
            host=parts.hostname,
            port=parts.port or (465 if use_ssl else 587 if use_tls else 25),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=use_tls,
            use_ssl=use_ssl,
        )
    raise ConfigError(
        f"EMAIL_URL scheme {scheme!r} is not supported (smtp, smtps, mailbox, console)"
    )
