"""Run queued background exports now (the worker also runs them periodically)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from bookdesk.exports.jobs import export_jobs_cleanup, export_jobs_run_pending


class Command(BaseCommand):
    help = "Run queued export jobs, then remove finished ones older than a week."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="most jobs to run")

    def handle(self, *args, limit: int, **options):
        ran = export_jobs_run_pending(limit=limit)
        removed = export_jobs_cleanup()
        self.stdout.write(f"ran {ran} export job(s), removed {removed} old one(s)")
