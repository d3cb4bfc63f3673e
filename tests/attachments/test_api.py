"""The attachments API as requesters, approvers, admins and strangers use it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bookdesk.attachments import storage
from bookdesk.attachments.models import Attachment
from bookdesk.audit.models import AuditEvent
from tests.attachments import samples


def post_file(client, booking, data: bytes, name: str = "letter.pdf", ctype="application/pdf"):
    return client.post(
        f"/api/v1/bookings/{booking.pk}/attachments",
        {"file": SimpleUploadedFile(name, data, content_type=ctype)},
    )


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_requester_attaches_a_pdf(as_user, alice, booking, uploads_root):
    response = post_file(as_user(alice), booking, samples.pdf())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "letter.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(samples.pdf())
    attachment = Attachment.objects.get(pk=body["id"])
    assert storage.path_for(attachment.stored_name).read_bytes() == samples.pdf()
    assert AuditEvent.objects.filter(action="attachment.uploaded", actor=alice).count() == 1


def test_the_approver_downloads_it_with_safe_headers(as_user, alice, bob, booking):
    attachment_id = post_file(as_user(alice), booking, samples.pdf(), name="Brief März.pdf").json()[
        "id"
    ]
    response = as_user(bob).get(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Brief Marz.pdf\"; filename*=UTF-8''Brief%20M%C3%A4rz.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert event.actor == bob
    assert event.target_id == str(attachment_id)


def test_an_admin_may_download(as_user, alice, carol, booking):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    assert as_user(carol).get(f"/api/v1/attachments/{attachment_id}").status_code == 200


def test_another_requester_gets_404_for_everything(as_user, alice, dave, booking):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    client = as_user(dave)
    assert client.get(f"/api/v1/attachments/{attachment_id}").status_code == 404
    assert client.get(f"/api/v1/bookings/{booking.pk}/attachments").status_code == 404
    assert client.delete(f"/api/v1/attachments/{attachment_id}").status_code == 404
    assert post_file(client, booking, samples.pdf()).status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_an_approver_may_read_but_not_upload(as_user, bob, booking):
    response = post_file(as_user(bob), booking, samples.pdf())
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_without_sign_in_it_is_401(client, booking):
    assert client.get(f"/api/v1/bookings/{booking.pk}/attachments").status_code == 401


def test_the_list_shows_the_bookings_attachments(as_user, alice, bob, booking):
    post_file(as_user(alice), booking, samples.pdf(), name="a.pdf")
    post_file(as_user(alice), booking, samples.png(), name="b.png", ctype="image/png")
    body = as_user(bob).get(f"/api/v1/bookings/{booking.pk}/attachments").json()
    assert [(a["name"], a["content_type"]) for a in body] == [
        ("a.pdf", "application/pdf"),
        ("b.png", "image/png"),
    ]
    assert body[0]["uploaded_by"] == "alice@example.com"


def test_delete_removes_row_and_file(
    as_user, alice, booking, uploads_root, django_capture_on_commit_callbacks
):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    stored = Attachment.objects.get(pk=attachment_id).stored_name
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).delete(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 204
    assert not Attachment.objects.filter(pk=attachment_id).exists()
    assert not storage.path_for(stored).exists()
    assert AuditEvent.objects.filter(action="attachment.deleted").count() == 1


# --- bad input: each with its status and message ------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "status", "code", "phrase"),
    [
        (b"", "empty.pdf", 422, "empty_file", "The file is empty."),
        (samples.pdf()[:-7], "cut.pdf", 422, "corrupt_file", "The PDF is incomplete"),
        (samples.png()[:-12], "cut.png", 422, "corrupt_file", "PNG image is incomplete"),
        (
            samples.png({b"Comment": b"<html><script>alert(1)</script>"}),
            "pretty.png",
            415,
            "unsupported_media_type",
            "HTML or script markup",
        ),
        (b"GIF89a\x01\x00\x01\x00;", "x.gif", 415, "unsupported_media_type", "image/gif"),
    ],
    ids=["empty", "truncated-pdf", "truncated-png", "png-html-polyglot", "gif"],
)
def test_bad_files_are_refused_and_nothing_is_kept(
    as_user, alice, booking, uploads_root, data, name, status, code, phrase
):
    response = post_file(as_user(alice), booking, data, name=name)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert phrase in response.json()["detail"]
    assert not Attachment.objects.exists()
    assert stored_files(uploads_root) == []


def test_a_pdf_named_png_is_accepted_as_a_pdf(as_user, alice, booking):
    response = post_file(as_user(alice), booking, samples.pdf(), name="scan.png", ctype="image/png")
    assert response.status_code == 201
    assert response.json()["content_type"] == "application/pdf"
    assert response.json()["name"] == "scan.pdf"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("x" * 500 + ".pdf", "x" * 251 + ".pdf"),
    ],
    ids=["dotdot", "nul", "500-chars"],
)
def test_hostile_names_are_sanitised(as_user, alice, booking, uploads_root, name, expected):
    response = post_file(as_user(alice), booking, samples.pdf(), name=name)
    assert response.status_code == 201
    assert response.json()["name"] == expected
    # Whatever the name, the file is only ever under our own generated name.
    (path,) = stored_files(uploads_root)
    assert path.name == Attachment.objects.get().stored_name


def test_a_file_over_the_size_limit_is_413(as_user, alice, booking, settings, uploads_root):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = post_file(as_user(alice), booking, b"a" * 1001, name="big.txt")
    assert response.status_code == 413
    assert response.json() == {
        "error": "too_large",
        "detail": "The file is larger than the limit of 1000 bytes.",
    }
    assert stored_files(uploads_root) == []


def test_the_count_per_booking_is_limited(as_user, alice, booking, settings):
    settings.ATTACHMENT_MAX_PER_BOOKING = 2
    client = as_user(alice)
    assert post_file(client, booking, samples.pdf()).status_code == 201
    assert post_file(client, booking, samples.pdf()).status_code == 201
    response = post_file(client, booking, samples.pdf())
    assert response.status_code == 413
    assert response.json()["error"] == "too_many_attachments"
    assert "already has 2 attachments" in response.json()["detail"]


def test_the_user_quota_is_enforced(as_user, alice, booking, settings):
    settings.ATTACHMENT_USER_QUOTA_BYTES = len(samples.pdf()) * 2 - 1
    client = as_user(alice)
    assert post_file(client, booking, samples.pdf()).status_code == 201
    response = post_file(client, booking, samples.pdf())
    assert response.status_code == 413
    assert response.json()["error"] == "quota_exceeded"
    assert "quota" in response.json()["detail"]


def test_a_request_without_the_file_field_is_400(as_user, alice, booking):
    response = as_user(alice).post(f"/api/v1/bookings/{booking.pk}/attachments", {"other": "value"})
    assert response.status_code == 400
    assert response.json()["error"] == "file_missing"


def test_behind_nginx_the_file_goes_out_by_x_accel_redirect(as_user, alice, booking, settings):
    attachment_id = post_file(as_user(alice), booking, samples.pdf()).json()["id"]
    settings.ATTACHMENTS_X_ACCEL_PREFIX = "/_protected_uploads/"
    response = as_user(alice).get(f"/api/v1/attachments/{attachment_id}")
    stored = Attachment.objects.get(pk=attachment_id).stored_name
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == (
        f"/_protected_uploads/{stored[:2]}/{stored[2:4]}/{stored}"
    )
    assert response.content == b""
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_deleting_the_booking_removes_its_files(
    as_user, alice, booking, uploads_root, django_capture_on_commit_callbacks
):
    post_file(as_user(alice), booking, samples.pdf())
    assert len(stored_files(uploads_root)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        booking.delete()
    assert not Attachment.objects.exists()
    assert stored_files(uploads_root) == []
