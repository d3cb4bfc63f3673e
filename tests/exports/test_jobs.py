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
