"""Calendar feeds: secret subscription addresses that calendar apps poll without a session.

A feed shows what its owner may see, checked again on every poll (a deactivated user's feed
stops working, a revoked token is a 404). Polls are cheap: ETag and Last-Modified come from
one aggregate query, and an unchanged feed answers 304 without building the calendar.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from bookdesk.audit.services import audit_record
from bookdesk.bookings.models import Booking
from bookdesk.bookings.selectors import bookings_visible_to
from bookdesk.exports.models import FeedToken

FEED_PREFIX = "bdf_"
# Past bookings older than this drop out of feeds, so a feed's size stays bounded.
FEED_HISTORY = timedelta(days=90)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def feed_url(raw: str) -> str:
    return f"{settings.SITE_URL}/exports/feeds/{raw}.ics"


def feed_token_create(*, user, resource=None, request=None) -> tuple[FeedToken, str]:
    """A new feed address for ``user`` (their bookings, or ``resource``'s); any earlier live
    token for the same subject is revoked. Returns the token row and the raw secret."""
    raw = FEED_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        live = FeedToken.objects.select_for_update().filter(
            user=user, resource=resource, revoked_at__isnull=True
        )
        for old in live:
            FeedToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
            audit_record(action="feed.revoked", actor=user, request=request, target=old)
        token = FeedToken.objects.create(
            user=user, resource=resource, token_hash=_hash(raw), prefix=raw[:10]
        )
        audit_record(
            action="feed.created",
            actor=user,
            request=request,
            target=token,
            resource_id=resource.pk if resource is not None else None,
        )
    return token, raw


def feed_token_revoke(*, user, token_id: int, request=None) -> bool:
    token = feeds_of(user).filter(pk=token_id).first()
    if token is None:
        return False
    FeedToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    audit_record(action="feed.revoked", actor=user, request=request, target=token)
    return True


def feeds_of(user):
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).select_related("resource")


def feed_token_lookup(raw: str) -> FeedToken | None:
    if not raw.startswith(FEED_PREFIX) or len(raw) > 100:
        return None
    token = (
        FeedToken.objects.select_related("user", "resource")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token


def feed_bookings(token: FeedToken) -> QuerySet[Booking]:
    qs = bookings_visible_to(token.user).filter(end__gte=timezone.now() - FEED_HISTORY)
    if token.resource_id is not None:
        qs = qs.filter(resource_id=token.resource_id)
    else:
        qs = qs.filter(requester=token.user)
    return qs.order_by("start", "id")


def feed_validators(token: FeedToken, qs: QuerySet[Booking]) -> tuple[str, datetime]:
    """(ETag, Last-Modified) of a feed: a hash of its newest change and size, and that time.

    The count catches deletions, the newest updated_at any change; the history window's
    start is part of the hash because bookings leave the feed as days pass.
    """
    summary = qs.order_by().aggregate(latest=Max("updated_at"), count=Count("id"))
    latest = summary["latest"] or token.created_at
    since = (timezone.now() - FEED_HISTORY).date()
    basis = f"{token.pk}:{latest.isoformat()}:{summary['count']}:{since}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"', latest
