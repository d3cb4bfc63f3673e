"""Find (and with --delete remove) files without rows and rows without files.

Files without rows come from crashes between writing and recording, or from bookings
deleted with their attachments; rows without files mean data was lost on disk and are
only removed when asked, after being listed. Temporary files (``.tmp-*``) older than an
hour are leftovers of interrupted writes.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment

STALE_TEMP_SECONDS = 3600


class Command(BaseCommand):
    help = "List files under UPLOADS_ROOT without an attachment row, and rows without a file."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete", action="store_true", help="remove the orphan files and the dangling rows"
        )

    def handle(self, *args, delete: bool = False, **options):
        if settings.UPLOADS_STORAGE == "s3":
            raise CommandError(
                "uploads_orphans checks UPLOADS_ROOT; with UPLOADS_STORAGE=s3 the bucket's "
                "versioning and lifecycle rules keep it (docs/uploads-and-exports.md)"
            )
        known = set(Attachment.objects.values_list("stored_name", flat=True))
        on_disk: set[str] = set()
        orphan_files = []
        now = time.time()
        for stored_name, path in storage.iter_stored_files():
            if stored_name and stored_name in known:
                on_disk.add(stored_name)
                continue
            fresh = now - path.stat().st_mtime < STALE_TEMP_SECONDS
            if path.name.startswith(storage.TEMP_PREFIX) and fresh:
                continue  # maybe still being written
            orphan_files.append(path)
        missing = Attachment.objects.exclude(stored_name__in=on_disk).order_by("pk")
        missing_rows = list(missing.values_list("pk", "stored_name"))

        for path in orphan_files:
            self.stdout.write(f"file without row: {path}")
        for pk, stored_name in missing_rows:
            self.stdout.write(f"row without file: attachment {pk} ({stored_name})")
        if delete:
            for path in orphan_files:
                path.unlink(missing_ok=True)
            Attachment.objects.filter(pk__in=[pk for pk, _ in missing_rows]).delete()
        verb = "removed" if delete else "found"
        self.stdout.write(
            f"{verb} {len(orphan_files)} file(s) without row, "
            f"{len(missing_rows)} row(s) without file"
        )
