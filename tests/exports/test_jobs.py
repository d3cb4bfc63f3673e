"""Background exports: queued, run by the worker's task, downloaded when ready."""

from __future__ import annotations

import csv
import io

from django.core.management import call_command
from openpyxl import load_workbook

from bookdesk.audit.models import AuditEvent
from bookdesk.exports.jobs import export_jobs_run_pending
from bookdesk.exports.models import ExportJob


def test_a_job_runs_and_its_file_downloads(as_user, carol, bookings, settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    client = as_user(carol)
    response = client.post(
        "/api/v1/exports/jobs",
        {"format": "csv", "status": ["approved", "pending"]},
        content_type="application/json",
    )
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["rows_total"], job["download_url"]) == ("queued", 3, None)
    assert client.get(f"/api/v1/exports/jobs/{job['id']}/file").status_code == 409

    assert export_jobs_run_pending() == 1

    done = client.get(f"/api/v1/exports/jobs/{job['id']}").json()
    assert (done["status"], done["rows_done"], done["rows_total"]) == ("done", 3, 3)
    file_response = client.get(done["download_url"])
    assert file_response.status_code == 200
    text = b"".join(file_response.streaming_content).decode()
    assert [r["title"] for r in csv.DictReader(io.StringIO(text))] == [
        "Team sync",
        "Dave in room",
        "Alice in hall",
    ]
    audit = AuditEvent.objects.filter(action="export.created").get()
    assert audit.data["background"] is True and audit.data["rows"] == 3
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1


def test_an_xlsx_job_through_the_command(as_user, bob, bookings, settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    job_id = (
        as_user(bob)
        .post("/api/v1/exports/jobs", {"format": "xlsx"}, content_type="application/json")
        .json()["id"]
    )
    out = io.StringIO()
    call_command("run_export_jobs", stdout=out)
    assert "ran 1 export job(s)" in out.getvalue()
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == "done"
    sheet = load_workbook(tmp_path / "exports" / job.file_name)["Bookings"]
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Team sync",
        "Dave in room",
    ]


def test_jobs_belong_to_their_owner(as_user, carol, dave, bookings, settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"
    job_id = (
        as_user(carol)
        .post("/api/v1/exports/jobs", {"format": "ics"}, content_type="application/json")
        .json()["id"]
    )
    export_jobs_run_pending()
    other = as_user(dave)
    assert other.get(f"/api/v1/exports/jobs/{job_id}").status_code == 404
    assert other.get(f"/api/v1/exports/jobs/{job_id}/file").status_code == 404
    assert other.get(f"/exports/jobs/{job_id}/download").status_code == 404


def test_a_job_with_a_malformed_date_is_422(as_user, carol):
    response = as_user(carol).post(
        "/api/v1/exports/jobs", {"format": "csv", "from": "soon"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid"


def stored_rows_done(job_pk: int) -> int:
    """rows_done as committed, read on a connection of its own (the export's may be busy)."""
    from django.db import connection

    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        cursor = raw.cursor()
        sql = "SELECT rows_done FROM exports_exportjob WHERE id = %s"
        if connection.vendor != "postgresql":
            sql = sql.replace("%s", "?")  # sqlite3's own placeholder style
        cursor.execute(sql, (job_pk,))
        return cursor.fetchone()[0]
    finally:
        raw.close()


def test_progress_is_saved_while_a_job_runs(
    transactional_db, carol, room, alice, settings, tmp_path
):
    """Committed rows, as in production: on PostgreSQL the COPY export reports its progress
    through a second connection while the first is busy streaming."""
    from datetime import UTC, datetime, timedelta

    from bookdesk.bookings.models import Booking
    from bookdesk.exports.filters import ExportFilters
    from bookdesk.exports.jobs import export_job_create
    from bookdesk.exports.models import ExportJob as Job

    settings.EXPORTS_DIR = tmp_path / "exports"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Booking.objects.bulk_create(
        Booking(
            resource=room,
            requester=alice,
            start=start + timedelta(hours=i),
            end=start + timedelta(hours=i, minutes=30),
            title=f"Booking {i}",
            purpose="x" * 200,
        )
        for i in range(2500)
    )
    job = export_job_create(user=carol, filters=ExportFilters(), fmt="csv")
    seen = []

    import bookdesk.exports.jobs as jobs_module

    real_progress = jobs_module._progress_recorder

    def watching(job):
        save, close = real_progress(job)

        def save_and_look(done):
            save(done)
            seen.append(stored_rows_done(job.pk))

        return save_and_look, close

    jobs_module._progress_recorder = watching
    try:
        export_jobs_run_pending()
    finally:
        jobs_module._progress_recorder = real_progress
    finished = Job.objects.get(pk=job.pk)
    assert (finished.status, finished.rows_done, finished.rows_total) == ("done", 2500, 2500)
    # What another process (the exports page) would have read during the run:
    assert len(seen) > 1 and 0 < seen[0] < 2500
    assert seen == sorted(seen)


def test_an_xlsx_job_with_a_control_character_in_a_title_finishes(
    as_user, bob, room, alice, settings, tmp_path
):
    """Regression: the background job failed on a title holding "\\x01"."""
    from datetime import UTC, datetime

    from tests.exports.conftest import make_booking

    settings.EXPORTS_DIR = tmp_path / "exports"
    make_booking(room, alice, datetime(2026, 12, 1, 9, tzinfo=UTC), title="Sync\x01\x02")
    job_id = (
        as_user(bob)
        .post("/api/v1/exports/jobs", {"format": "xlsx"}, content_type="application/json")
        .json()["id"]
    )
    assert export_jobs_run_pending() == 1
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == "done"
    sheet = load_workbook(tmp_path / "exports" / job.file_name)["Bookings"]
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Sync\ufffd\ufffd"]
