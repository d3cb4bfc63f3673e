"""WSGI entry point for gunicorn (``bookdesk.wsgi:application``)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")

from bookdesk.config import ConfigError

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as exc:
    print(f"bookdesk: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
