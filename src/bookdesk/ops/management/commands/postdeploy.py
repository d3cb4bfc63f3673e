"""`bookdesk postdeploy`: the post-deploy checks against an environment (ops/postdeploy.py)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bookdesk.ops import postdeploy, smoke


class Command(BaseCommand):
    help = (
        "Check a release that just went live: readiness over a settle period, the smoke "
        "tests, no new firing alert, no new error lines. Exit 1 with the reasons otherwise "
        "(the caller rolls back). See docs/pipeline.md."
    )
    # It checks another site over HTTP: nothing about this process's own site matters.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True)
        parser.add_argument("--environment", required=True, help="staging or production")
        parser.add_argument(
            "--since", required=True, help="when the deploy began (ISO 8601 or Unix seconds)"
        )
        parser.add_argument("--settle", type=float, default=60.0, help="seconds (default 60)")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
        parser.add_argument("--alertmanager-url")
        parser.add_argument(
            "--env-label", default="env", help="the alerts' environment label (default env)"
        )
        parser.add_argument("--log-file", action="append", default=[], help="a path or glob")
        parser.add_argument(
            "--log-command", action="append", default=[], help="{since}/{since_epoch} filled in"
        )
        parser.add_argument("--max-error-lines", type=int, default=0)
        parser.add_argument(
            "--skip", action="append", default=[], choices=postdeploy.CHECKS, help="leave out"
        )
        parser.add_argument("--smoke-env-file", type=Path, help="KEY=VALUE file of SMOKE_*")

    def handle(self, *args, **options):
        logging.getLogger("httpx").setLevel(logging.WARNING)
        try:
            since = postdeploy.parse_time(options["since"])
        except ValueError:
            raise CommandError(f"--since {options['since']!r} is not a time") from None
        smoke_env = {}
        if options["smoke_env_file"] is not None:
            if not options["smoke_env_file"].exists():
                raise CommandError(f"no such file: {options['smoke_env_file']}")
            smoke_env.update(smoke.read_env_file(options["smoke_env_file"]))
        smoke_env.update(os.environ)
        config = postdeploy.PostDeployConfig(
            base_url=options["base_url"].rstrip("/"),
            environment=options["environment"],
            since=since,
            settle_seconds=options["settle"],
            interval_seconds=max(0.1, options["interval"]),
            alertmanager_url=options["alertmanager_url"],
            env_label=options["env_label"],
            log_files=options["log_file"],
            log_commands=options["log_command"],
            max_error_lines=options["max_error_lines"],
            skip=set(options["skip"]),
            smoke_env=smoke_env,
        )
        self._echo(
            f"post-deploy: {config.environment} at {config.base_url}, "
            f"since {config.since:%Y-%m-%dT%H:%M:%S}Z"
        )
        failed = postdeploy.run_checks(config, echo=self._echo)
        if failed:
            self._echo(f"post-deploy: FAILED: {', '.join(failed)} (roll back)")
            raise SystemExit(1)
        self._echo("post-deploy: passed")

    def _echo(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
