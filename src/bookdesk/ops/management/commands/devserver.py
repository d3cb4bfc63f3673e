"""`make run`: the web server and the background worker together, for a laptop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from bookdesk.core.mail import backend_is
from bookdesk.notifications.devmailbox import DevMailboxBackend


class Command(BaseCommand):
    help = "Run the development web server and the background worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port: int, **options):
        url = f"http://127.0.0.1:{port}"
        mailbox = (
            f"{url}/dev/mailbox/ (and printed below)"
            if backend_is(DevMailboxBackend)
            else f"the SMTP server at {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        )
        self.stdout.write(
            "\n"
            f"  Bookdesk is starting on {url}\n\n"
            "  Demo accounts (password: bookdesk-demo):\n"
            "    admin@example.com      admin\n"
            "    approver@example.com   approver\n"
            "    requester@example.com  requester\n\n"
            f"  Sign-in codes and other mail: {mailbox}\n"
            "  Stop with Ctrl-C.\n"
        )
        if not os.environ.get("SITE_URL"):
            # Links in mail must point at the port actually served, in both processes.
            os.environ["SITE_URL"] = url
            settings.SITE_URL = url
        # WhiteNoise looks for STATIC_ROOT at start-up; on a laptop nothing is collected there.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        worker = None
        if "worker" in get_commands():
            # --exit-with-parent: the worker must not outlive a devserver that was killed.
            worker = subprocess.Popen(
                [sys.executable, "-m", "bookdesk", "worker", "--exit-with-parent"],
                env={**os.environ, "BOOKDESK_PARENT_PID": str(os.getpid())},
            )
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
