"""Access checks for the HTML pages, called before a view does any work.

Pages need a session that passed both sign-in steps (django-otp marks it verified); the
API has its own authentication. A signed-in user without the right role gets a 403 page,
not a redirect, so the answer says plainly that the page exists but is not theirs.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def _verified(user) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_verified", lambda: False)())


def verified_required(view):
    """The user signed in with a password and a second factor; otherwise to the sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _verified(request.user):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return view(request, *args, **kwargs)

    return wrapper


def _role_required(check, message: str):
    def decorator(view):
        @wraps(view)
        @verified_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_required = _role_required(lambda u: u.is_admin, "This page is for admins.")
approver_required = _role_required(lambda u: u.is_approver, "This page is for approvers.")
