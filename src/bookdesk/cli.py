"""The ``bookdesk`` console script: Django's manage commands under Bookdesk's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")
    from bookdesk.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv if argv is not None else sys.argv)
    except ConfigError as exc:
        # One line for the operator, not a traceback.
        print(f"bookdesk: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
