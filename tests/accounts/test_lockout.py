"""Lockout: failed passwords and codes count per account and per client address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookdesk.accounts import lockout
from bookdesk.accounts.models import AuthFailure, Lockout, LockScope
from bookdesk.audit.models import AuditEvent
from bookdesk.core.metrics import AUTH_FAILURES, AUTH_LOCKOUTS
from tests.accounts.conftest import code_in

pytestmark = pytest.mark.django_db

WRONG = "not the password"


def _expire_locks():
    """Jump past every cool-off (the lock rows stay, with their strike counts)."""
    Lockout.objects.update(locked_until=timezone.now() - timedelta(seconds=1))


def test_failed_passwords_lock_the_account(api, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        api.login(alice.email, WRONG)

    response = api.login(alice.email)  # the right password

    assert response.status_code == 401
    assert mailoutbox == []
    lock = Lockout.objects.get(scope=LockScope.ACCOUNT, key=alice.email)
    assert lock.strikes == 1


def test_failures_below_the_threshold_do_not_lock(api, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(2):
        api.login(alice.email, WRONG)

    assert api.login(alice.email).status_code == 200


def test_failed_codes_count_towards_the_account_lock(api, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    challenge = api.login(alice.email).json()["challenge"]
    wrong = f"{(int(code_in(mailoutbox[0])) + 1) % 10**6:06d}"
    for _ in range(3):
        api.otp(challenge, wrong)

    response = api.otp(challenge, code_in(mailoutbox[0]))

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert int(response["Retry-After"]) > 0
    assert Lockout.objects.filter(scope=LockScope.ACCOUNT, key=alice.email).exists()


def test_password_and_code_failures_add_up(api, api_factory, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    api.login(alice.email, WRONG)
    api.login(alice.email, WRONG)
    other = api_factory()
    challenge = other.login(alice.email).json()["challenge"]
    other.otp(challenge, f"{(int(code_in(mailoutbox[0])) + 1) % 10**6:06d}")

    assert Lockout.objects.filter(scope=LockScope.ACCOUNT, key=alice.email).exists()
    assert other.login(alice.email).status_code == 401


def test_the_account_lock_is_not_permanent(api, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    for _ in range(3):
        api.login(alice.email, WRONG)
    _expire_locks()

    assert api.login(alice.email).status_code == 200


def test_the_first_cooloff_is_the_base(api, alice, settings):
    settings.LOCKOUT_THRESHOLD = 2
    before = timezone.now()
    for _ in range(2):
        api.login(alice.email, WRONG)

    lock = Lockout.objects.get(scope=LockScope.ACCOUNT)
    assert lock.locked_until - before >= settings.LOCKOUT_BASE_COOLOFF
    assert lock.locked_until - timezone.now() <= settings.LOCKOUT_BASE_COOLOFF


def test_the_cooloff_doubles_for_a_repeated_lockout_within_a_day(api, alice, settings):
    settings.LOCKOUT_THRESHOLD = 2
    for _ in range(2):
        api.login(alice.email, WRONG)
    _expire_locks()
    before = timezone.now()
    for _ in range(2):
        api.login(alice.email, WRONG)

    lock = Lockout.objects.get(scope=LockScope.ACCOUNT)
    assert lock.strikes == 2
    assert lock.locked_until - before >= 2 * settings.LOCKOUT_BASE_COOLOFF
    assert lock.locked_until - timezone.now() <= 2 * settings.LOCKOUT_BASE_COOLOFF


def test_strikes_older_than_a_day_are_forgotten(api, alice, settings):
    settings.LOCKOUT_THRESHOLD = 2
    for _ in range(2):
        api.login(alice.email, WRONG)
    Lockout.objects.update(
        locked_until=timezone.now() - timedelta(days=1),
        last_locked_at=timezone.now() - timedelta(days=1, minutes=20),
    )
    for _ in range(2):
        api.login(alice.email, WRONG)

    assert Lockout.objects.get(scope=LockScope.ACCOUNT).strikes == 1


def test_the_cooloff_is_capped(settings):
    settings.LOCKOUT_BASE_COOLOFF = timedelta(minutes=15)
    settings.LOCKOUT_MAX_COOLOFF = timedelta(hours=12)

    assert [lockout.cooloff_for(n) for n in (1, 2, 3)] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
    ]
    assert lockout.cooloff_for(7) == timedelta(hours=12)
    assert lockout.cooloff_for(500) == timedelta(hours=12)


def test_never_more_than_100_failures_per_account_per_hour(api_factory, alice, settings):
    # Even configured to lock late, the hourly cap holds.
    settings.LOCKOUT_THRESHOLD = 1000
    settings.LOCKOUT_IP_THRESHOLD = 1000
    now = timezone.now()
    AuthFailure.objects.bulk_create(
        AuthFailure(scope=LockScope.ACCOUNT, key=alice.email, at=now - timedelta(minutes=50))
        for _ in range(99)
    )
    client = api_factory()
    client.login(alice.email, WRONG)  # the 100th
    for _ in range(5):
        client.login(alice.email, WRONG)

    in_hour = AuthFailure.objects.filter(
        scope=LockScope.ACCOUNT, key=alice.email, at__gt=timezone.now() - timedelta(hours=1)
    )
    assert in_hour.count() == 100
    lock = Lockout.objects.get(scope=LockScope.ACCOUNT, key=alice.email)
    # Locked until the oldest of the hundred is an hour old, not forever.
    assert timedelta(minutes=9) < lock.locked_until - timezone.now() <= timedelta(minutes=10)


def test_failures_from_one_address_lock_that_address(api_factory, alice, dave, settings):
    settings.LOCKOUT_IP_THRESHOLD = 4
    client = api_factory(REMOTE_ADDR="203.0.113.7")
    for i in range(4):
        client.login(f"someone{i}@example.com", WRONG)

    response = client.login(dave.email)

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    assert api_factory(REMOTE_ADDR="203.0.113.8").login(dave.email).status_code == 200


def test_a_forged_forwarded_header_from_an_untrusted_peer_changes_nothing(
    api_factory, alice, dave, settings
):
    settings.TRUSTED_PROXIES = []
    settings.LOCKOUT_IP_THRESHOLD = 3
    client = api_factory(REMOTE_ADDR="203.0.113.7")
    for i in range(3):
        client.login(f"someone{i}@example.com", WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{i + 1}")

    response = client.login(dave.email, HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert response.status_code == 429
    keys = set(AuthFailure.objects.filter(scope=LockScope.IP).values_list("key", flat=True))
    assert keys == {"203.0.113.7"}


def test_a_trusted_proxy_passes_the_client_address(api_factory, dave, settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    settings.LOCKOUT_IP_THRESHOLD = 3
    proxy = api_factory(REMOTE_ADDR="10.0.0.2")
    for i in range(3):
        proxy.login(f"someone{i}@example.com", WRONG, HTTP_X_FORWARDED_FOR="198.51.100.1")

    locked = proxy.login(dave.email, HTTP_X_FORWARDED_FOR="198.51.100.1")
    other_client = proxy.login(dave.email, HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert locked.status_code == 429
    assert other_client.status_code == 200


def test_lockouts_are_counted_logged_and_audited(api, alice, settings):
    settings.LOCKOUT_THRESHOLD = 2
    lockouts = AUTH_LOCKOUTS._value.get()
    failures = AUTH_FAILURES.labels(stage="password")._value.get()

    for _ in range(2):
        api.login(alice.email, WRONG)

    assert AUTH_LOCKOUTS._value.get() == lockouts + 1
    assert AUTH_FAILURES.labels(stage="password")._value.get() == failures + 2
    assert AuditEvent.objects.filter(action="lockout").count() == 1
    assert AuditEvent.objects.filter(action="signin.failure").count() == 2


def test_a_successful_sign_in_clears_the_account_failures(api, alice, settings, mailoutbox):
    settings.LOCKOUT_THRESHOLD = 3
    api.login(alice.email, WRONG)
    api.login(alice.email, WRONG)
    challenge = api.login(alice.email).json()["challenge"]
    api.otp(challenge, code_in(mailoutbox[0]))

    assert not AuthFailure.objects.filter(scope=LockScope.ACCOUNT).exists()


def test_old_records_are_pruned(alice):
    old = timezone.now() - timedelta(days=2)
    AuthFailure.objects.create(scope=LockScope.IP, key="203.0.113.1", at=old)
    Lockout.objects.create(
        scope=LockScope.IP, key="203.0.113.1", locked_until=old, strikes=1, last_locked_at=old
    )
    AuthFailure.objects.create(scope=LockScope.IP, key="203.0.113.2")

    assert lockout.auth_records_prune() == 2
    assert AuthFailure.objects.count() == 1


def test_the_worker_prunes_old_sign_in_attempts(alice):
    from bookdesk.accounts.models import CodeEmail, SignInChallenge
    from bookdesk.accounts.services import accounts_prune
    from bookdesk.core import periodic

    old = timezone.now() - timedelta(days=2)
    SignInChallenge.objects.create(
        user=alice, token_hash="a" * 64, method="email", created_at=old, expires_at=old
    )
    CodeEmail.objects.create(user=alice, at=old, sent=True)
    fresh = SignInChallenge.objects.create(
        user=alice, token_hash="b" * 64, method="email", expires_at=timezone.now()
    )

    assert accounts_prune() == 2
    assert list(SignInChallenge.objects.all()) == [fresh]
    assert periodic.registered()["bookdesk.accounts.services.accounts_prune"] is accounts_prune
