"""`bookdesk smoke --base-url URL`: the smoke tests against a running site (ops/smoke.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bookdesk.ops import smoke


class Command(BaseCommand):
    help = (
        "Run the smoke tests against a site over HTTP. Credentials come from SMOKE_* "
        "environment variables (or --env-file); see docs/pipeline.md."
    )
    # It talks to another site over HTTP: nothing about this one needs checking.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="e.g. https://staging.example.org")
        parser.add_argument(
            "--env-file",
            type=Path,
            help="KEY=VALUE file with the SMOKE_* values (the environment wins over it)",
        )

    def handle(self, *args, base_url: str, env_file: Path | None, **options):
        env = {}
        if env_file is not None:
            if not env_file.exists():
                raise CommandError(f"no such file: {env_file}")
            env.update(smoke.read_env_file(env_file))
        env.update(os.environ)
        status = smoke.main_from_env(base_url, env, echo=self._echo)
        if status:
            raise SystemExit(status)

    def _echo(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
