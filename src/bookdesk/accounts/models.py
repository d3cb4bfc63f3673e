"""Users keyed by email, with one role each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device

from bookdesk.accounts.addresses import normalise_email


class Role(models.TextChoices):
    REQUESTER = "requester", "Requester"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Admin"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.REQUESTER)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["role"] = Role.ADMIN
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str | None) -> User:
        return self.get(email=normalise_email(email or ""))


# django-otp ships no types, so the plugin cannot see the manager behind EmailCodeDevice's
# reverse relation to User.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REQUESTER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Not stored: django-otp's OTPMiddleware sets these on each request's user, saying
    # whether the session passed the second factor and with which device.
    is_verified: Callable[[], bool]
    otp_device: Device | None

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="accounts_user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        # Every way in (admin, createsuperuser, services) stores the one form.
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @property
    def is_staff(self) -> bool:
        # The Django admin is for admins only (and only with a verified second factor,
        # which the OTP admin site checks).
        return self.role == Role.ADMIN

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_approver(self) -> bool:
        return self.role in {Role.APPROVER, Role.ADMIN}

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


# --- second factor ------------------------------------------------------------------------


class EmailCodeDevice(Device):
    """The django-otp device behind email codes.

    Codes are not checked here but against the sign-in attempt (``SignInChallenge``), which
    binds each code to one attempt. The device exists so that django-otp can mark a session
    as verified (``request.user.is_verified()``), which the admin site and the API rely on.
    """

    def verify_token(self, token) -> bool:
        # Codes only count through the sign-in attempt they were sent for.
        return False


class SignInMethod(models.TextChoices):
    EMAIL = "email", "Email code"
    TOTP = "totp", "Authenticator app"


class SignInChallenge(models.Model):
    """One sign-in attempt between the password step and the code step.

    The client holds an opaque random id; only its SHA-256 is stored. The email code is
    stored as a keyed hash. ``used_at`` is set by one conditional UPDATE, so of many
    parallel submissions of the right code exactly one wins.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signin_challenges")
    token_hash = models.CharField(max_length=64, unique=True)
    method = models.CharField(max_length=8, choices=SignInMethod.choices)
    code_hash = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    failed_codes = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=[m.value for m in SignInMethod]),
                name="accounts_challenge_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"sign-in attempt {self.pk} for user {self.user_id}"


class CodeEmail(models.Model):
    """Every attempt to email a sign-in code, to cap them per account per hour."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    sent = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"code email to {self.user_id} at {self.at:%H:%M:%S}"


# --- lockout ------------------------------------------------------------------------------


class LockScope(models.TextChoices):
    ACCOUNT = "account", "Account"
    IP = "ip", "Client address"


class AuthFailure(models.Model):
    """One failed password or code, for an account (keyed by email) or a client address."""

    scope = models.CharField(max_length=8, choices=LockScope.choices)
    key = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} failed at {self.at:%H:%M:%S}"


class Lockout(models.Model):
    """The current cool-off of an account or address; ``strikes`` grows the next one."""

    scope = models.CharField(max_length=8, choices=LockScope.choices)
    key = models.CharField(max_length=254)
    locked_until = models.DateTimeField()
    strikes = models.PositiveSmallIntegerField(default=0)
    last_locked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="accounts_lockout_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} locked until {self.locked_until:%H:%M:%S}"


# --- API tokens ---------------------------------------------------------------------------


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the token is kept; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so a user can tell tokens apart without the secret.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Every token ends (API_TOKEN_LIFETIME_DAYS): a forgotten one in an old script stops.
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
