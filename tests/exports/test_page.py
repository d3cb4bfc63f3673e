"""The exports page: the same filters as the API, big exports go to the background."""

from __future__ import annotations

import csv
import io

from bookdesk.exports.models import ExportJob


def test_the_page_lists_filters_formats_and_feeds(as_user, alice, bookings):
    response = as_user(alice).get("/exports/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="from"' in html and 'name="format"' in html
    assert "Make a feed address" in html


def test_a_small_export_downloads_at_once(as_user, alice, bookings):
    response = as_user(alice).post("/exports/", {"format": "csv", "from": "2026-12-02"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    assert [r["title"] for r in csv.DictReader(io.StringIO(text))] == ["Alice in hall"]


def test_a_big_export_becomes_a_job(as_user, carol, bookings, settings):
    settings.EXPORT_BACKGROUND_ROWS = 2
    client = as_user(carol)
    response = client.post("/exports/", {"format": "xlsx"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.user, job.format, job.status, job.rows_total) == (carol, "xlsx", "queued", 4)
    page = client.get("/exports/").content.decode()
    assert "Refresh to see the progress" in page


def test_a_malformed_date_is_shown_as_an_error(as_user, alice, bookings):
    response = as_user(alice).post("/exports/", {"format": "csv", "from": "2026-02-30"})
    assert response.status_code == 422
    assert "&#x27;2026-02-30&#x27; is not a date; use YYYY-MM-DD." in response.content.decode()


def test_the_page_needs_sign_in(client):
    response = client.get("/exports/")
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]
