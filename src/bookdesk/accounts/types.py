"""Types for who is asking, for annotations (django-stubs reads them; nothing at run time).

``request.user`` is a ``User`` or an ``AnonymousUser``; behind ``verified_required`` and the
API's authentication it is always a ``User``, which ``AuthenticatedHttpRequest`` says.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from bookdesk.accounts.models import User

# Whoever made a request: a signed-in user or nobody yet. Selectors that answer for
# anyone take this and narrow with ``user.is_authenticated``.
AnyUser: TypeAlias = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    """A request whose user signed in (the page decorators and the API auth ensure it)."""

    user: User
