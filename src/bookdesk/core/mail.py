"""Which kind of mail backend is configured, asked by class rather than by name."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def backend_is(backend: type) -> bool:
    """True when EMAIL_BACKEND is ``backend`` or a subclass of it."""
    configured = import_string(settings.EMAIL_BACKEND)
    return isinstance(configured, type) and issubclass(configured, backend)
