"""Personal API tokens: created from a verified session, shown once, stored as a hash.

A token is 32 random bytes, so a plain SHA-256 is enough to store it (unlike a password
there is nothing to guess); the lookup is then one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookdesk.accounts.models import ApiToken
from bookdesk.audit.services import audit_record
from bookdesk.core.errors import Forbidden

TOKEN_PREFIX = "bd_"  # noqa: S105 - a marker, not a secret
# last_used_at is a hint for the user, not an audit trail: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str  # give this to the user now; it cannot be shown again


def token_create(*, user, name: str, request=None, with_token: bool = False) -> NewToken:
    """A new token for ``user``. ``with_token``: the caller signed in with a token, which
    may not make more (a leaked token must not be able to outlive its revocation)."""
    if with_token:
        raise Forbidden("Create tokens from a signed-in session, not a token.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100] or "API token",
            token_hash=_hash(raw),
            prefix=raw[:10],
            created_at=now,
            expires_at=now + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
        )
        audit_record(action="token.created", request=request, actor=user, target=token, name=name)
    return NewToken(token=token, raw=raw)


def tokens_for(user):
    """``user``'s live tokens: not revoked, not expired."""
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def token_revoke(*, user, token_id: int, request=None) -> bool:
    """Revoke one of ``user``'s tokens; False when there is no such live token."""
    token = tokens_for(user).filter(pk=token_id).first()
    if token is None:
        return False
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        audit_record(action="token.revoked", request=request, actor=user, target=token)
    return True


def user_for_token(raw: str):
    """The active user a live token belongs to, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def tokens_revoke_all(*, user, reason: str) -> int:
    """Revoke every live token of ``user`` (their password changed or was reset), with the
    audit row in the same transaction; returns how many."""
    with transaction.atomic():
        revoked = tokens_for(user).update(revoked_at=timezone.now())
        if revoked:
            audit_record(
                action="token.revoked_all", actor=user, target=user, reason=reason, count=revoked
            )
    return revoked


def revoke_tokens_when_the_password_changes(sender, instance, created, **kwargs) -> None:
    """post_save of User: a new password ends every token the old one could have made.

    ``set_password`` keeps the new password in ``_password`` until the save after it has
    run; that covers the password change and reset pages, the admin and the command line.
    """
    if not created and getattr(instance, "_password", None) is not None:
        tokens_revoke_all(user=instance, reason="password_changed")
