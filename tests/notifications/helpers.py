"""Helpers for the email tests."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.utils import timezone


def run_worker(*args: str) -> str:
    out = StringIO()
    call_command("worker", "--once", "--no-periodic", *args, stdout=out)
    return out.getvalue()


def make_due(message) -> None:
    """As if the retry time had come."""
    type(message).objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
