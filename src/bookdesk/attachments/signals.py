"""Keep disk and database in step when attachment rows are deleted by any path."""

from __future__ import annotations

import contextlib

from django.db import transaction

from bookdesk.attachments import storage


def remove_file_after_delete(sender, instance, using, **kwargs) -> None:
    stored_name = instance.stored_name

    def remove() -> None:
        # A failure leaves an orphan that `bookdesk uploads_orphans --delete` removes.
        with contextlib.suppress(OSError, ValueError):
            storage.delete_file(stored_name)

    transaction.on_commit(remove, using=using)
