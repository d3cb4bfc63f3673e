"""Sign-in, code entry, sign-out and the account page (TOTP enrolment, API tokens)."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.decorators import otp_required
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookdesk.accounts import services, tokens
from bookdesk.accounts.forms import CodeForm, SignInForm, TokenForm, TotpConfirmForm
from bookdesk.accounts.types import AuthenticatedHttpRequest
from bookdesk.core.http import with_retry_after
from bookdesk.core.pages import page_status

SIGNIN_SESSION_KEY = "bookdesk_signin"
NEW_TOKEN_SESSION_KEY = "bookdesk_new_token"  # noqa: S105 - a session key name


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


@never_cache
@sensitive_post_parameters("password")
def signin(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            started = services.signin_start(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except services.SignInError as exc:
            form.add_error(None, exc.message)
            response = render(
                request,
                "accounts/login.html",
                {"form": form, "next": _next_url(request)},
                status=page_status(exc),
            )
            return with_retry_after(response, exc)
        request.session[SIGNIN_SESSION_KEY] = {
            "challenge": started.challenge,
            "method": started.method,
            "email_hint": _mask(started.user.email),
        }
        url = reverse("accounts:login_code")
        next_url = _next_url(request)
        if next_url != settings.LOGIN_REDIRECT_URL:
            url += "?" + urlencode({"next": next_url})
        return redirect(url)
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@never_cache
def signin_code(request: HttpRequest) -> HttpResponseBase:
    pending = request.session.get(SIGNIN_SESSION_KEY)
    if not pending:
        messages.info(request, "Start by entering your email address and password.")
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    context = {"form": form, "pending": pending, "next": _next_url(request)}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "resend":
        form = CodeForm()
        context["form"] = form
        try:
            services.code_resend(request=request, challenge_raw=pending["challenge"])
        except services.SignInError as exc:
            context["status_error"] = exc.message
            status = page_status(exc)
            if isinstance(exc, services.ChallengeInvalid):
                return _restart(request, exc.message)
            return with_retry_after(
                render(request, "accounts/login_code.html", context, status=status), exc
            )
        context["status_message"] = f"We sent a new code to {pending['email_hint']}."
    elif request.method == "POST" and form.is_valid():
        try:
            services.signin_verify_code(
                request=request, challenge_raw=pending["challenge"], code=form.cleaned_data["code"]
            )
        except services.ChallengeInvalid as exc:
            return _restart(request, exc.message)
        except services.SignInError as exc:
            form.add_error("code", exc.message)
            return with_retry_after(
                render(request, "accounts/login_code.html", context, status=page_status(exc)),
                exc,
            )
        request.session.pop(SIGNIN_SESSION_KEY, None)
        return redirect(_next_url(request))
    return render(request, "accounts/login_code.html", context, status=status)


def _restart(request, detail: str):
    request.session.pop(SIGNIN_SESSION_KEY, None)
    messages.error(request, detail)
    return redirect("accounts:login")


def signout(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.signout(request=request)
    messages.success(request, "You are signed out.")
    return redirect("accounts:login")


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """The admin's own login form would skip our lockout and code step: use ours.

    The admin sends everyone it refuses here. Someone already fully signed in is refused
    because of their role, not for want of signing in: sending them to sign in would send
    them straight back, round and round; they get 403.
    """
    user = request.user
    if user.is_authenticated and user.is_verified() and not user.is_staff:
        raise PermissionDenied("The administration pages are for admins.")
    next_url = request.GET.get("next") or "/admin/"
    return redirect(reverse("accounts:login") + "?" + urlencode({"next": next_url}))


# --- the account page ---------------------------------------------------------------------


def _totp_qr_svg(device: TOTPDevice, user) -> str:
    # The otpauth URL carries the issuer so the app labels the entry "Bookdesk".
    url = device.config_url
    svg = segno.make(url, error="m").svg_inline(scale=4, title=f"QR code for {user.email}")
    # role="img" makes screen readers announce the title instead of walking the paths.
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _secret_base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode("ascii").rstrip("=")


@never_cache
@otp_required
def account(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    user = request.user
    confirmed = services.totp_confirmed_device(user)
    totp_form = TotpConfirmForm(prefix="totp")
    token_form = TokenForm(prefix="token")
    action = request.POST.get("action") if request.method == "POST" else None

    if action == "totp_confirm" and confirmed is None:
        totp_form = TotpConfirmForm(request.POST, prefix="totp")
        if totp_form.is_valid():
            if services.totp_enrol(request=request, user=user, code=totp_form.cleaned_data["code"]):
                messages.success(
                    request, "Your authenticator app is set up. Sign-in will ask for its code."
                )
                return redirect("accounts:account")
            totp_form.add_error("code", "That code is not right. Check the app and try again.")
    elif action == "totp_remove" and confirmed is not None:
        services.totp_remove(request=request, user=user)
        messages.success(request, "Authenticator app removed. Sign-in will email you a code.")
        return redirect("accounts:account")
    elif action == "token_create":
        token_form = TokenForm(request.POST, prefix="token")
        if token_form.is_valid():
            new = tokens.token_create(
                user=user, name=token_form.cleaned_data["name"], request=request
            )
            request.session[NEW_TOKEN_SESSION_KEY] = {"name": new.token.name, "raw": new.raw}
            return redirect("accounts:account")
    elif action == "token_revoke":
        try:
            token_id = int(request.POST.get("token_id", ""))
        except ValueError:
            token_id = 0
        if tokens.token_revoke(user=user, token_id=token_id, request=request):
            messages.success(request, "Token revoked.")
        else:
            messages.error(request, "That token does not exist or is already revoked.")
        return redirect("accounts:account")

    context = {
        "totp_confirmed": confirmed,
        "totp_form": totp_form,
        "token_form": token_form,
        "tokens": tokens.tokens_for(user),
        "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
    }
    if confirmed is None:
        pending = services.totp_pending_device(user)
        context["totp_qr"] = _totp_qr_svg(pending, user)
        context["totp_secret"] = _secret_base32(pending)
    status = 200 if not (totp_form.errors or token_form.errors) else 400
    return render(request, "accounts/account.html", context, status=status)
