"""Background exports: queued from the exports page, run by the worker, fetched when ready.

Files are written to EXPORTS_DIR under a generated name through a temporary file and a
rename, so a crash never leaves a "ready" job pointing at half a file. Progress
(rows_done/rows_total) is saved every couple of thousand rows for the page to show.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bookdesk.audit.services import audit_record
from bookdesk.core.errors import Conflict, Gone, NotFound
from bookdesk.exports import writers
from bookdesk.exports.filters import ExportFilters
from bookdesk.exports.models import ExportJob, ExportStatus
from bookdesk.exports.pgcopy import csv_stream
from bookdesk.exports.selectors import bookings_for_export, export_rows
from bookdesk.exports.services import FORMATS

log = structlog.get_logger("bookdesk.exports")

# Finished exports are kept this long, then removed with their files.
KEEP_FOR = timedelta(days=7)


def export_job_create(*, user, filters: ExportFilters, fmt: str, request=None) -> ExportJob:
    rows = bookings_for_export(user, filters).count()
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, format=fmt, filters=filters.as_dict(), rows_total=rows
        )
        audit_record(
            action="export.created",
            actor=user,
            request=request,
            target=job,
            format=fmt,
            filters=filters.as_dict(),
            rows=rows,
            background=True,
        )
    return job


def job_path(job: ExportJob) -> Path:
    return Path(settings.EXPORTS_DIR) / job.file_name


@dataclass(frozen=True)
class JobFile:
    handle: BinaryIO
    filename: str
    content_type: str


def export_job_download(*, user, job_id: int, request=None) -> JobFile:
    """Open a finished export of ``user``'s for download, and audit it.

    NotFound for someone else's job, Conflict while it is not done, Gone once its file was
    removed (the caller then starts it again).
    """
    job = ExportJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise NotFound("No such export.")
    if job.status != ExportStatus.DONE:
        raise Conflict(f"The export is {job.get_status_display().lower()}.", code="not_ready")
    try:
        handle = job_path(job).open("rb")
    except FileNotFoundError:
        raise Gone("The export file was removed; start it again.") from None
    audit_record(action="export.downloaded", actor=user, request=request, target=job)
    return JobFile(
        handle=handle,
        filename=f"bookings-{job.created_at:%Y%m%d-%H%M%S}.{job.format}",
        content_type=FORMATS[job.format],
    )


def _claim_next() -> ExportJob | None:
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(skip_locked=True)
            .filter(status=ExportStatus.QUEUED)
            .order_by("created_at", "id")
            .first()
        )
        if job is None:
            return None
        job.status = ExportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
        return job


def export_jobs_run_pending(*, limit: int = 5) -> int:
    """Run up to ``limit`` queued jobs; returns how many ran. Called by the worker."""
    ran = 0
    while ran < limit:
        job = _claim_next()
        if job is None:
            break
        export_job_run(job)
        ran += 1
    return ran


def export_job_run(job: ExportJob) -> None:
    progress, close_progress = _progress_recorder(job)
    try:
        _run(job, progress)
    finally:
        close_progress()


def _progress_recorder(job: ExportJob):
    """A callback saving rows_done, and a function to call when done.

    PostgreSQL's COPY keeps the export's connection busy until the last row, so there the
    progress goes through a second, short-lived connection of its own.
    """
    if connection.vendor != "postgresql" or job.format != "csv":

        def update_row(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

        return update_row, lambda: None

    side = None

    def progress(done: int) -> None:
        nonlocal side
        if side is None:
            side = connection.get_new_connection(connection.get_connection_params())
            side.autocommit = True
        side.execute("UPDATE exports_exportjob SET rows_done = %s WHERE id = %s", (done, job.pk))

    def close() -> None:
        if side is not None:
            side.close()

    return progress, close


def _run(job: ExportJob, save_progress) -> None:
    counted = 0

    def progress(done: int) -> None:
        nonlocal counted
        counted = done
        save_progress(done)

    directory = Path(settings.EXPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{job.format}"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        qs = bookings_for_export(job.user, ExportFilters.from_dict(job.filters))
        with os.fdopen(fd, "wb") as out:
            if job.format == "xlsx":
                rows = writers.write_xlsx(export_rows(qs), out, progress=progress)
            else:
                chunks = (
                    csv_stream(qs, progress=progress)
                    if job.format == "csv"
                    else writers.ics_chunks(export_rows(qs), progress=progress)
                )
                for chunk in chunks:
                    out.write(chunk)
                rows = counted
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, directory / name)
    except Exception as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        log.exception("export_job_failed", job_id=job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        return
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file_name=name,
        rows_done=rows,
        rows_total=rows,
        finished_at=timezone.now(),
    )


def export_jobs_cleanup() -> int:
    """Remove finished jobs older than KEEP_FOR and their files; returns how many."""
    old = ExportJob.objects.filter(
        status__in=[ExportStatus.DONE, ExportStatus.FAILED],
        finished_at__lt=timezone.now() - KEEP_FOR,
    )
    count = 0
    for job in old:
        if job.file_name:
            with contextlib.suppress(FileNotFoundError):
                job_path(job).unlink()
        job.delete()
        count += 1
    return count


def export_jobs_periodic() -> int:
    """The worker's periodic task: run queued exports, then tidy up old ones."""
    ran = export_jobs_run_pending()
    export_jobs_cleanup()
    return ran
