"""Forms for the sign-in, account and password reset pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm

from bookdesk.accounts.addresses import normalise_email
from bookdesk.accounts.models import User
from bookdesk.accounts.services import password_reset_queue


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
    """Django's reset form, but the mail goes through the outbox (password_reset_queue)."""

    def get_users(self, email):
        # The one form of the address (addresses.py), matched exactly: the database's own
        # case rules must not find an account that sign-in and lockout would not.
        found = User.objects.filter(email=normalise_email(email), is_active=True)
        return (user for user in found if user.has_usable_password())

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        password_reset_queue(
            user=context["user"], to=to_email, uid=context["uid"], token=context["token"]
        )
