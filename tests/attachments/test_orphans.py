"""`bookdesk uploads_orphans` finds files without rows and rows without files."""

from __future__ import annotations

import io
import os
import time

from django.core.management import call_command

from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment


def run(*args) -> str:
    out = io.StringIO()
    call_command("uploads_orphans", *args, stdout=out)
    return out.getvalue()


def make_attachment(booking, user) -> Attachment:
    stored = storage.store_file(io.BytesIO(b"kept"))
    return Attachment.objects.create(
        booking=booking,
        uploaded_by=user,
        stored_name=stored.stored_name,
        display_name="kept.txt",
        content_type="text/plain",
        size=stored.size,
        sha256=stored.sha256,
    )


def test_it_lists_then_removes_orphans(booking, alice, uploads_root):
    kept = make_attachment(booking, alice)
    lost = make_attachment(booking, alice)
    storage.delete_file(lost.stored_name)
    stray = storage.store_file(io.BytesIO(b"no row"))
    old_temp = storage.path_for(kept.stored_name).parent / ".tmp-crashed"
    old_temp.write_bytes(b"half")
    os.utime(old_temp, (time.time() - 7200, time.time() - 7200))
    fresh_temp = storage.path_for(kept.stored_name).parent / ".tmp-writing"
    fresh_temp.write_bytes(b"in flight")

    listing = run()
    assert f"file without row: {stray.path}" in listing
    assert f"file without row: {old_temp}" in listing
    assert f"row without file: attachment {lost.pk}" in listing
    assert "found 2 file(s) without row, 1 row(s) without file" in listing
    assert stray.path.exists()  # listing alone changes nothing

    assert "removed 2 file(s) without row, 1 row(s) without file" in run("--delete")
    assert not stray.path.exists()
    assert not old_temp.exists()
    assert fresh_temp.exists()
    assert storage.path_for(kept.stored_name).exists()
    assert list(Attachment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "found 0 file(s) without row, 0 row(s) without file" in run()
