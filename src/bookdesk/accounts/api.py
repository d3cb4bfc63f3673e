"""Sign-in, the current user and API tokens under /api/v1.

The sign-in endpoints run before there is a verified session, so they use no API auth but
check the CSRF token themselves: a browser script signing in rides on the session cookie.
"""

from __future__ import annotations

from datetime import datetime

from django.middleware.csrf import get_token
from ninja import Field, Router, Schema
from ninja.utils import check_csrf

from bookdesk.accounts import services, tokens
from bookdesk.core.errors import Forbidden, NotFound

router = Router(tags=["auth"])


class LoginIn(Schema):
    email: str = Field(max_length=254)
    # Bounded so nobody can make the server hash megabytes.
    password: str = Field(max_length=1024)


class LoginOut(Schema):
    otp_required: bool
    challenge: str
    method: str = Field(description="email (a code was emailed) or totp (authenticator app)")


class OtpIn(Schema):
    challenge: str = Field(max_length=200)
    code: str = Field(max_length=20)


class ChallengeIn(Schema):
    challenge: str = Field(max_length=200)


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str


class CsrfOut(Schema):
    csrf_token: str


class ResendOut(Schema):
    sent: bool


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenCreatedOut(Schema):
    id: int
    name: str
    token: str = Field(description="Shown once: store it now.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime


def _require_csrf(request) -> None:
    if check_csrf(request) is not None:
        raise Forbidden(
            "Send the CSRF token from GET /api/v1/auth/csrf in X-CSRFToken.", code="csrf_failed"
        )


def _me(user) -> dict:
    return {"id": user.pk, "email": user.email, "full_name": user.full_name, "role": user.role}


@router.get("/auth/csrf", auth=None, response=CsrfOut, summary="Set the CSRF cookie")
def auth_csrf(request):
    """Sets the `csrftoken` cookie; send its value back in `X-CSRFToken`."""
    return {"csrf_token": get_token(request)}


@router.post(
    "/auth/login",
    auth=None,
    response=LoginOut,
    summary="Password step",
    openapi_extra={"responses": {401: {"description": "Bad credentials (one generic answer)"}}},
)
def auth_login(request, payload: LoginIn):
    """Check email and password; the answer carries the challenge for `POST /auth/otp`.

    A code is emailed unless the account uses an authenticator app (`method: totp`).
    """
    _require_csrf(request)
    started = services.signin_start(request=request, email=payload.email, password=payload.password)
    return {"otp_required": True, "challenge": started.challenge, "method": started.method}


@router.post("/auth/otp", auth=None, response=MeOut, summary="Code step")
def auth_otp(request, payload: OtpIn):
    """Check the one-time code; on success the session cookie is signed in and verified."""
    _require_csrf(request)
    user = services.signin_verify_code(
        request=request, challenge_raw=payload.challenge, code=payload.code
    )
    return _me(user)


@router.post("/auth/otp/resend", auth=None, response=ResendOut, summary="Email a new code")
def auth_otp_resend(request, payload: ChallengeIn):
    _require_csrf(request)
    services.code_resend(request=request, challenge_raw=payload.challenge)
    return {"sent": True}


@router.post("/auth/logout", auth=None, response={204: None}, summary="Sign out")
def auth_logout(request):
    """End the session on the server."""
    _require_csrf(request)
    services.signout(request=request)
    return 204, None


@router.get("/me", response=MeOut, summary="The signed-in user")
def me(request):
    return _me(request.auth)


@router.post("/tokens", response={201: TokenCreatedOut}, tags=["tokens"])
def token_create(request, payload: TokenIn):
    """Create an API token (only from a signed-in, verified session, not with a token)."""
    new = tokens.token_create(
        user=request.auth,
        name=payload.name,
        request=request,
        with_token=getattr(request, "api_token_auth", False),
    )
    return 201, {"id": new.token.pk, "name": new.token.name, "token": new.raw}


@router.get("/tokens", response=list[TokenOut], tags=["tokens"])
def token_list(request):
    return list(tokens.tokens_for(request.auth))


@router.delete("/tokens/{token_id}", response={204: None}, tags=["tokens"])
def token_revoke(request, token_id: int):
    if not tokens.token_revoke(user=request.auth, token_id=token_id, request=request):
        raise NotFound("No such token.")
    return 204, None
