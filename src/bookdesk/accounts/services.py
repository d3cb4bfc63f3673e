"""Sign-in: the password step, the code step and code emails, used by pages and the API.

The password step (``signin_start``) opens a sign-in attempt (``SignInChallenge``) and,
for users without an authenticator app, emails a code bound to it. The code step
(``signin_verify_code``) consumes the attempt with one conditional UPDATE, logs the user
in and marks the session verified for django-otp.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.hashers import make_password
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookdesk.accounts.lockout import (
    account_key,
    failure_record,
    failures_clear,
    lock_remaining,
)
from bookdesk.accounts.middleware import SESSION_STARTED_KEY
from bookdesk.accounts.models import (
    CodeEmail,
    EmailCodeDevice,
    LockScope,
    SignInChallenge,
    SignInMethod,
    User,
)
from bookdesk.audit.services import audit_record
from bookdesk.core.clientip import client_ip
from bookdesk.core.errors import (
    DomainError,
    NotAuthenticated,
    RateLimited,
    Unavailable,
)
from bookdesk.core.mail import backend_is
from bookdesk.core.metrics import AUTH_FAILURES, OTP_EMAILS
from bookdesk.notifications.services import enqueue_email, render_email

log = structlog.get_logger("bookdesk.accounts")

# How long a sign-in attempt stays open between the password and the code step.
CHALLENGE_TTL = timedelta(minutes=15)
GENERIC_FAILURE = "Those details don't match an account. Check them and try again."


class SignInError(DomainError):
    """A sign-in step failed; each kind below is also the domain kind it belongs to."""

    code = "signin_failed"
    message = "Sign-in failed."


class InvalidCredentials(SignInError, NotAuthenticated):
    code = "invalid_credentials"
    message = GENERIC_FAILURE


class Throttled(SignInError, RateLimited):
    code = "too_many_attempts"
    message = "Too many attempts. Wait a while, then try again."


class ResendTooSoon(Throttled):
    code = "resend_too_soon"
    message = "A code was sent a moment ago. Wait a minute before asking for another."


class TooManyCodeEmails(Throttled):
    code = "too_many_codes"
    message = "We have sent this account several codes in the last hour. Try again later."


class InvalidCode(SignInError, NotAuthenticated):
    code = "invalid_code"
    message = "That code is not right. Check it and try again."


class CodeExpired(SignInError, NotAuthenticated):
    code = "code_expired"
    message = "That code has expired. Ask for a new one."


class ChallengeInvalid(SignInError, NotAuthenticated):
    code = "challenge_invalid"
    message = "This sign-in attempt has ended. Start again with your email and password."


class EmailUnavailable(SignInError, Unavailable):
    code = "email_unavailable"
    message = "We could not send your sign-in code just now. Please try again in a few minutes."


@dataclass(frozen=True)
class SignInStarted:
    challenge: str  # the raw opaque id: shown to the client once, stored only hashed
    method: str
    user: User


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _code_hash(challenge_id: int, code: str) -> str:
    # Keyed with SECRET_KEY: a six-digit code is easy to brute-force from a bare hash.
    return salted_hmac(
        "bookdesk.signin-code", f"{challenge_id}:{code}", algorithm="sha256"
    ).hexdigest()


def hasher_burn(password: str) -> None:
    """Spend the time a password check takes, for steps that fail before any check.

    Unknown emails and locked accounts then take about as long as a wrong password.
    """
    make_password(password)


def _throttle_ip(request: HttpRequest) -> str | None:
    ip = client_ip(request)
    remaining = lock_remaining(scope=LockScope.IP, key=ip)
    if remaining:
        raise Throttled(retry_after=remaining)
    return ip


def _count_failure(
    *,
    request: HttpRequest,
    ip: str | None,
    email_key: str,
    stage: str,
    user: User | None = None,
    count_account: bool = True,
) -> None:
    AUTH_FAILURES.labels(stage=stage).inc()
    if count_account:
        failure_record(scope=LockScope.ACCOUNT, key=email_key, request=request)
    failure_record(scope=LockScope.IP, key=ip, request=request)
    audit_record(
        action="signin.failure",
        request=request,
        actor=user,
        actor_email=email_key,
        stage=stage,
    )


def _totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def signin_start(*, request: HttpRequest, email: str, password: str) -> SignInStarted:
    """The password step. Raises InvalidCredentials alike for every kind of wrong answer."""
    ip = _throttle_ip(request)
    key = account_key(email)

    if lock_remaining(scope=LockScope.ACCOUNT, key=key):
        # A locked account answers exactly like a wrong password (no enumeration); the
        # password is not checked, so guessing on while locked gains nothing.
        hasher_burn(password)
        _count_failure(request=request, ip=ip, email_key=key, stage="password", count_account=False)
        raise InvalidCredentials

    user = User.objects.filter(email=key).first() if key else None
    if user is None or not user.is_active:
        hasher_burn(password)
        user = None
    elif not user.check_password(password):
        user = None
    if user is None:
        _count_failure(request=request, ip=ip, email_key=key, stage="password")
        raise InvalidCredentials

    totp = _totp_device(user)
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    challenge = SignInChallenge.objects.create(
        user=user,
        token_hash=_sha256(raw),
        method=SignInMethod.TOTP if totp else SignInMethod.EMAIL,
        created_at=now,
        expires_at=now + CHALLENGE_TTL,
    )
    # A new session key once the password is right (no fixation), and the absolute
    # session lifetime counts from here.
    request.session.cycle_key()
    request.session[SESSION_STARTED_KEY] = time.time()
    if challenge.method == SignInMethod.EMAIL:
        try:
            code_send(challenge=challenge, request=request)
        except SignInError:
            challenge.delete()
            raise
    return SignInStarted(challenge=raw, method=challenge.method, user=user)


def challenge_get(raw: str | None) -> SignInChallenge:
    """The open sign-in attempt for a raw challenge id, or ChallengeInvalid."""
    if not raw or len(raw) > 200:
        raise ChallengeInvalid
    challenge = (
        SignInChallenge.objects.select_related("user").filter(token_hash=_sha256(raw)).first()
    )
    if (
        challenge is None
        or challenge.used_at is not None
        or challenge.expires_at <= timezone.now()
        or challenge.failed_codes >= settings.OTP_MAX_WRONG_CODES
        or not challenge.user.is_active
    ):
        raise ChallengeInvalid
    return challenge


def _send_code_email(*, user: User, code: str) -> None:
    context = {
        "code": code,
        "minutes": int(settings.OTP_CODE_TTL.total_seconds() // 60),
        "user": user,
        "site_url": settings.SITE_URL,
    }
    subject, text, html = render_email("signin-code", context)
    # The user waits for this mail, so it goes now, bounded by EMAIL_TIMEOUT.
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    message = EmailMultiAlternatives(subject, text, to=[user.email], connection=connection)
    message.attach_alternative(html, "text/html")
    if backend_is(SmtpBackend):
        _send_within(message, settings.EMAIL_TIMEOUT)
    else:
        message.send()


class RelayTooSlow(TimeoutError):
    """The relay took longer than EMAIL_TIMEOUT for the whole conversation."""


def _send_within(message: EmailMultiAlternatives, timeout: float) -> None:
    """Send over SMTP, giving up after ``timeout`` seconds in total.

    The socket timeout alone bounds each read, not the conversation: a relay answering
    every command just in time could hold the user for several timeouts. The send runs in
    a thread we stop waiting for; the socket timeout still ends that thread soon after.
    """
    outcome: dict[str, BaseException] = {}

    def send() -> None:
        try:
            message.send()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=send, name="otp-email", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise RelayTooSlow(f"no answer from the relay within {timeout}s")
    if "error" in outcome:
        raise outcome["error"]


def code_send(*, challenge: SignInChallenge, request: HttpRequest | None = None) -> None:
    """Email a fresh code for ``challenge`` (replacing any earlier one).

    Raises ResendTooSoon inside the cooldown, TooManyCodeEmails past the hourly cap and
    EmailUnavailable when the relay is down, refuses or is too slow.
    """
    now = timezone.now()
    user = challenge.user
    hour_ago = now - timedelta(hours=1)
    sent = CodeEmail.objects.filter(user=user, sent=True, at__gt=hour_ago).order_by("at")
    if sent.count() >= settings.OTP_MAX_EMAILS_PER_HOUR:
        oldest = sent.values_list("at", flat=True).first()
        raise TooManyCodeEmails(retry_after=(oldest or now) + timedelta(hours=1) - now)

    code = f"{secrets.randbelow(10**6):06d}"
    # Claim the send with one conditional UPDATE, so two parallel resends send one mail.
    cooldown_start = now - settings.OTP_RESEND_COOLDOWN
    claimed = (
        SignInChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True)
        .exclude(code_sent_at__gt=cooldown_start)
        .update(
            code_hash=_code_hash(challenge.pk, code),
            code_sent_at=now,
            code_expires_at=now + settings.OTP_CODE_TTL,
        )
    )
    if not claimed:
        challenge.refresh_from_db()
        wait = (challenge.code_sent_at or now) + settings.OTP_RESEND_COOLDOWN - now
        raise ResendTooSoon(retry_after=max(wait, timedelta(seconds=1)))

    record = CodeEmail.objects.create(user=user, at=now)
    try:
        _send_code_email(user=user, code=code)
    except Exception as exc:  # any failure of the relay means the same to the user
        OTP_EMAILS.labels(result="failed").inc()
        log.warning("otp_email_failed", user_id=user.pk, error=type(exc).__name__)
        audit_record(
            action="otp.failed",
            request=request,
            actor=user,
            target=challenge,
            error=type(exc).__name__,
        )
        # The code never arrived: let the user ask again without waiting for the cooldown.
        SignInChallenge.objects.filter(pk=challenge.pk).update(
            code_hash="", code_sent_at=None, code_expires_at=None
        )
        raise EmailUnavailable from exc
    CodeEmail.objects.filter(pk=record.pk).update(sent=True)
    OTP_EMAILS.labels(result="sent").inc()
    log.info("otp_email_sent", user_id=user.pk)
    audit_record(action="otp.sent", request=request, actor=user, target=challenge)


def code_resend(*, request: HttpRequest, challenge_raw: str) -> SignInChallenge:
    """Send a new code for an open email sign-in attempt."""
    _throttle_ip(request)
    challenge = challenge_get(challenge_raw)
    if challenge.method != SignInMethod.EMAIL:
        raise ChallengeInvalid("This sign-in uses your authenticator app, not email.")
    code_send(challenge=challenge, request=request)
    return challenge


def _code_matches(challenge: SignInChallenge, code: str) -> bool:
    if challenge.method == SignInMethod.TOTP:
        device = _totp_device(challenge.user)
        return device is not None and device.verify_token(code)
    return bool(challenge.code_hash) and constant_time_compare(
        _code_hash(challenge.pk, code), challenge.code_hash
    )


def signin_verify_code(*, request: HttpRequest, challenge_raw: str, code: str) -> User:
    """The code step: on success the request's session is signed in and verified."""
    ip = _throttle_ip(request)
    challenge = challenge_get(challenge_raw)
    user = challenge.user
    key = account_key(user.email)
    remaining = lock_remaining(scope=LockScope.ACCOUNT, key=key)
    if remaining:
        # The password was right, so saying "locked" here tells nothing new.
        raise Throttled(retry_after=remaining)

    code = "".join((code or "").split())
    now = timezone.now()
    if (
        challenge.method == SignInMethod.EMAIL
        and challenge.code_hash
        and (challenge.code_expires_at is None or challenge.code_expires_at <= now)
    ):
        raise CodeExpired

    if not (code.isdigit() and len(code) == 6 and _code_matches(challenge, code)):
        SignInChallenge.objects.filter(
            pk=challenge.pk,
            used_at__isnull=True,
            failed_codes__lt=settings.OTP_MAX_WRONG_CODES,
        ).update(failed_codes=F("failed_codes") + 1)
        _count_failure(request=request, ip=ip, email_key=key, stage="otp", user=user)
        if challenge.failed_codes + 1 >= settings.OTP_MAX_WRONG_CODES:
            raise ChallengeInvalid(
                "Too many wrong codes for this sign-in. Start again with your email and password."
            )
        raise InvalidCode

    # The database decides who wins: only one UPDATE finds used_at still empty.
    consumable = SignInChallenge.objects.filter(
        pk=challenge.pk,
        used_at__isnull=True,
        expires_at__gt=now,
        failed_codes__lt=settings.OTP_MAX_WRONG_CODES,
    )
    if challenge.method == SignInMethod.EMAIL:
        consumable = consumable.filter(code_hash=challenge.code_hash, code_expires_at__gt=now)
    if consumable.update(used_at=now) != 1:
        raise ChallengeInvalid

    if challenge.method == SignInMethod.TOTP:
        device = _totp_device(user)
    else:
        device, _ = EmailCodeDevice.objects.get_or_create(
            user=user, defaults={"name": "Email", "confirmed": True}
        )
    started = request.session.get(SESSION_STARTED_KEY) or time.time()
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    # login() gives the session a new key; it keeps the data, unless another user was
    # signed in, when it flushes it. Either way the lifetime counts from the password step.
    request.session[SESSION_STARTED_KEY] = started
    otp_login(request, device)
    failures_clear(scope=LockScope.ACCOUNT, key=key)
    audit_record(action="signin.success", request=request, actor=user, method=challenge.method)
    log.info("signin_success", user_id=user.pk, method=challenge.method)
    return user


def signout(*, request: HttpRequest) -> None:
    """End the session on the server (the row is deleted, the key is worthless)."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit_record(action="signout", request=request, actor=user)
    auth_logout(request)


# --- password reset -----------------------------------------------------------------------


def password_reset_queue(*, user: User, to: str, uid: str, token: str) -> None:
    """Queue the reset mail (Django's reset form calls this instead of sending).

    The request only writes a row, so an address with an account answers as fast as one
    without (no enumeration by timing) and a slow relay never slows the page. The link is
    built from SITE_URL, never from the request's Host header.
    """
    path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    enqueue_email(
        kind="password_reset",
        to=to,
        template="password-reset",
        context={
            "user": user,
            "reset_url": f"{settings.SITE_URL}{path}",
            "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        },
        # Asking again within ten minutes sends nothing new: no mailbox flooding.
        dedupe_key=f"password-reset:{user.pk}:{int(time.time() // 600)}",
    )


# --- the authenticator app (TOTP) -----------------------------------------------------------


def totp_confirmed_device(user: User) -> TOTPDevice | None:
    return _totp_device(user)


def totp_pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device whose QR code the account page shows (made on first need)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_enrol(*, request: HttpRequest, user: User, code: str) -> bool:
    """Confirm the pending device with a code from the app; False when the code is wrong.

    From then on sign-in asks for the app's code, and this session counts as verified by
    the app, as the next sign-in will be.
    """
    device = totp_pending_device(user)
    if not device.verify_token(code):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_record(action="totp.enrolled", request=request, actor=user)
    otp_login(request, device)
    return True


def totp_remove(*, request: HttpRequest, user: User) -> None:
    """Remove the authenticator app: sign-in emails a code again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(action="totp.removed", request=request, actor=user)


# --- periodic -----------------------------------------------------------------------------


def accounts_prune() -> int:
    """Periodic (bookdesk worker): drop finished sign-in attempts and old counters."""
    from bookdesk.accounts.lockout import auth_records_prune

    day_ago = timezone.now() - timedelta(days=1)
    attempts, _ = SignInChallenge.objects.filter(expires_at__lt=day_ago).delete()
    emails, _ = CodeEmail.objects.filter(at__lt=day_ago).delete()
    return attempts + emails + auth_records_prune()
