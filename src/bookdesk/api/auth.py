"""API authentication: a Bearer token, or a session whose second factor is verified.

Session requests must carry the CSRF token (X-CSRFToken); Bearer requests need none,
since a browser never adds an Authorization header on its own.
"""

from __future__ import annotations

from ninja.security import APIKeyCookie, HttpBearer


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        from bookdesk.accounts.tokens import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
            request.api_token_auth = True
        return user


class VerifiedSessionAuth(APIKeyCookie):
    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_verified():
            return user
        return None


API_AUTH = [BearerTokenAuth(), VerifiedSessionAuth(csrf=True)]
