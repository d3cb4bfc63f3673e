"""`bookdesk worker`: send queued email and run the periodic tasks, until stopped."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from bookdesk.notifications.worker import Worker


class Command(BaseCommand):
    help = "Send the email outbox and run periodic tasks (SIGTERM/SIGINT stop it cleanly)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run the periodic tasks once, send what is due, and exit (for tests and cron).",
        )
        parser.add_argument(
            "--no-periodic", action="store_true", help="Only send email; skip periodic tasks."
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the process that started this one goes away (for `make run`).",
        )
        parser.add_argument(
            "--poll", type=float, default=None, help="Seconds between polls (WORKER_POLL_SECONDS)."
        )

    def handle(
        self,
        *args,
        once: bool,
        no_periodic: bool,
        poll: float | None,
        exit_with_parent: bool,
        **options,
    ):
        worker = Worker(
            poll_seconds=poll, periodic=not no_periodic, exit_with_parent=exit_with_parent
        )
        if once:
            result = worker.run_once()
            self.stdout.write(
                f"sent {result.sent}, failed {result.failed}, put back {result.released}"
            )
            return
        worker.run_forever()
