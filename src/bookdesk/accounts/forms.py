"""Forms for the sign-in, account and password reset pages."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse


class AccessibleForm(forms.Form):
    """Points each invalid input at its error text, for screen readers."""

    def full_clean(self):
        super().full_clean()
        self._mark_invalid()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._mark_invalid()

    def _mark_invalid(self):
        for name in self.errors:
            if name not in self.fields:
                continue
            field = self[name]
            described = [f"{field.auto_id}_error"]
            if self.fields[name].help_text:
                described.append(f"{field.auto_id}_helptext")
            attrs = self.fields[name].widget.attrs
            attrs["aria-describedby"] = " ".join(described)
            attrs["aria-invalid"] = "true"


class SignInForm(AccessibleForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label="Sign-in code",
        max_length=20,
        help_text="6 digits",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits of the code.")
        return code


class TotpConfirmForm(CodeForm):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        help_text="6 digits",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class TokenForm(AccessibleForm):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What will use it, for example “reporting script”.",
    )


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the mail goes through the outbox.

    The request only writes a row, so an address with an account answers as fast as one
    without (no enumeration by timing) and a slow relay never slows the page. The link is
    built from SITE_URL, never from the request's Host header.
    """

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from bookdesk.notifications.services import enqueue_email

        user = context["user"]
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        enqueue_email(
            kind="password_reset",
            to=to_email,
            template="password-reset",
            context={
                "user": user,
                "reset_url": f"{settings.SITE_URL}{path}",
                "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
            },
            # Asking again within ten minutes sends nothing new: no mailbox flooding.
            dedupe_key=f"password-reset:{user.pk}:{int(time.time() // 600)}",
        )
