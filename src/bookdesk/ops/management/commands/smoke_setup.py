"""`bookdesk smoke_setup`: make or update the smoke accounts and resource (smoke_accounts.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bookdesk.ops import smoke, smoke_accounts


class Command(BaseCommand):
    help = (
        "Create or update the smoke tests' requester, approver (both with an authenticator "
        "key) and resource from the SMOKE_* environment variables. Idempotent. "
        "--generate prints new values for an environment's secret store instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--env-file", type=Path, help="KEY=VALUE file with the SMOKE_* values")
        parser.add_argument(
            "--generate",
            metavar="DOMAIN",
            help="print new random SMOKE_* values (accounts smoke-*@DOMAIN) and change nothing",
        )

    def handle(self, *args, env_file: Path | None, generate: str | None, **options):
        if generate:
            self.stdout.write(smoke_accounts.generate_env(generate), ending="")
            return
        env = {}
        if env_file is not None:
            if not env_file.exists():
                raise CommandError(f"no such file: {env_file}")
            env.update(smoke.read_env_file(env_file))
        env.update(os.environ)
        try:
            values = smoke_accounts.secrets_from_env(env)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        changes = smoke_accounts.smoke_setup(values)
        for change in changes:
            self.stdout.write(f"smoke_setup: {change}")
        self.stdout.write(f"smoke_setup: {'done' if changes else 'already up to date'}")
