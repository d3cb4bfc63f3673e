"""Lockout after repeated failed sign-in steps, per account and per client address.

Why not django-axes: its cool-off is one fixed period, it counts only what goes through
``authenticate()`` (our code step does not), it reads the client address through its own
settings rather than our trusted-proxy rule, and its lock answer is a separate response,
while a locked account here must answer exactly like a wrong password. The rules fit in a
small table and a few functions:

- every failed password or code adds one ``AuthFailure`` for the account (keyed by the
  normalised email, whether or not such an account exists, so no difference shows) and one
  for the client address;
- ``threshold`` failures since the last cool-off ended (within the last hour) lock the key;
  the cool-off starts at LOCKOUT_BASE_COOLOFF and doubles for each lockout of the same key
  in the last day, capped at LOCKOUT_MAX_COOLOFF: never permanent;
- independent of the threshold, an account never gets more than ``HOURLY_CAP`` failures in
  an hour: at the cap it stays locked until the oldest of them is an hour old. While locked,
  a sign-in step is refused before its secret is checked, so nothing more is counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from bookdesk.accounts.addresses import normalise_email
from bookdesk.accounts.models import AuthFailure, Lockout, LockScope
from bookdesk.audit.services import audit_record
from bookdesk.core.metrics import AUTH_LOCKOUTS

log = structlog.get_logger("bookdesk.accounts")

HOURLY_CAP = 100
WINDOW = timedelta(hours=1)
STRIKE_MEMORY = timedelta(days=1)


def account_key(email: str) -> str:
    # The same form the account is stored and found under (addresses.py).
    return normalise_email(email)


def _threshold(scope: str) -> int:
    if scope == LockScope.IP:
        return settings.LOCKOUT_IP_THRESHOLD
    return settings.LOCKOUT_THRESHOLD


def lock_remaining(*, scope: str, key: str | None) -> timedelta | None:
    """How long ``key`` stays locked, or None when it is not locked."""
    if not key:
        return None
    now = timezone.now()
    until = (
        Lockout.objects.filter(scope=scope, key=key, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return (until - now) if until else None


def cooloff_for(strikes: int) -> timedelta:
    """The cool-off of the ``strikes``-th lockout within a day (1 = first)."""
    base = settings.LOCKOUT_BASE_COOLOFF
    cap = settings.LOCKOUT_MAX_COOLOFF
    # Doubling past the cap only matters up to the cap; the bound keeps the power small.
    return min(base * (2 ** min(max(strikes - 1, 0), 20)), cap)


def failure_record(
    *, scope: str, key: str | None, request: HttpRequest | None = None
) -> timedelta | None:
    """Count one failure for ``key``; lock it when a limit is reached. Returns the lock."""
    if not key:
        return None
    now = timezone.now()
    AuthFailure.objects.create(scope=scope, key=key, at=now)

    current = Lockout.objects.filter(scope=scope, key=key).first()
    since = now - WINDOW
    if current is not None and current.locked_until > since:
        # Failures before the end of the last cool-off were already paid for.
        since = current.locked_until
    recent = AuthFailure.objects.filter(scope=scope, key=key, at__gt=since).count()

    until: datetime | None = None
    if recent >= _threshold(scope):
        strikes = 1
        if current is not None and current.last_locked_at > now - STRIKE_MEMORY:
            strikes = current.strikes + 1
        until = now + cooloff_for(strikes)
    else:
        strikes = current.strikes if current is not None else 0

    if scope == LockScope.ACCOUNT:
        in_hour = AuthFailure.objects.filter(scope=scope, key=key, at__gt=now - WINDOW)
        if in_hour.count() >= HOURLY_CAP:
            oldest = in_hour.order_by("at").values_list("at", flat=True).first()
            until = max(until or now, (oldest or now) + WINDOW)
            strikes = max(strikes, 1)

    if until is None:
        return None
    _lock_save(scope=scope, key=key, until=until, strikes=strikes, now=now)
    AUTH_LOCKOUTS.inc()
    audit_record(
        action="lockout",
        request=request,
        actor=None,
        target_type=f"lock.{scope}",
        target_id=key[:64],
        until=until.isoformat(),
        strikes=strikes,
    )
    log.warning("auth_lockout", scope=scope, strikes=strikes, until=until.isoformat())
    return until - now


def _lock_save(*, scope: str, key: str, until: datetime, strikes: int, now: datetime) -> None:
    values = {"locked_until": until, "strikes": strikes, "last_locked_at": now}
    updated = Lockout.objects.filter(scope=scope, key=key).update(**values)
    if not updated:
        try:
            with transaction.atomic():
                Lockout.objects.create(scope=scope, key=key, **values)
        except IntegrityError:
            # A parallel failure created it first; ours is the later word.
            Lockout.objects.filter(scope=scope, key=key).update(**values)


def failures_clear(*, scope: str, key: str | None) -> None:
    """Forget an account's failures after it signs in; its strike count stays."""
    if key:
        AuthFailure.objects.filter(scope=scope, key=key).delete()


def auth_records_prune() -> int:
    """Periodic: drop failures older than the window and lockouts older than a day."""
    now = timezone.now()
    deleted, _ = AuthFailure.objects.filter(at__lt=now - WINDOW).delete()
    gone, _ = Lockout.objects.filter(
        locked_until__lt=now, last_locked_at__lt=now - STRIKE_MEMORY
    ).delete()
    return deleted + gone
