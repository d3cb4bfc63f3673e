"""Test helpers other test modules use to act as a fully signed-in user.

``signed_in_client(client, user)`` gives a Django test client a session that passed both
steps (password and second factor), exactly as the real sign-in leaves it: the user is
logged in, django-otp knows the verifying device, and the absolute-lifetime clock runs.
"""

from __future__ import annotations

import time

from django_otp import DEVICE_ID_SESSION_KEY

from bookdesk.accounts.middleware import SESSION_STARTED_KEY


def verified_device_for(user):
    """The user's email-code device (made when missing), the second factor tests log in with."""
    from bookdesk.accounts.models import EmailCodeDevice

    device, _ = EmailCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Email", "confirmed": True}
    )
    return device


def signed_in_client(client, user):
    """Log ``client`` in as ``user`` with an OTP-verified session; returns the client."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = verified_device_for(user).persistent_id
    session[SESSION_STARTED_KEY] = time.time()
    session.save()
    return client


def api_signed_in(client, user):
    """Like signed_in_client; the test client skips CSRF checks, so API calls just work.

    Use ``csrf_client`` tests (``Client(enforce_csrf_checks=True)``) to check CSRF itself.
    """
    return signed_in_client(client, user)
