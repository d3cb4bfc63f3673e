"""The booking page's attachments panel: upload, download, delete, and who sees it."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client, RequestFactory

from bookdesk.attachments.models import Attachment
from tests.attachments import samples


def render_panel(user, booking) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load attachments_panel %}{% attachments_panel booking %}")
    return template.render(Context({"request": request, "booking": booking}))


def test_the_requester_sees_the_form_and_the_list(alice, booking):
    Attachment.objects.create(
        booking=booking,
        uploaded_by=alice,
        stored_name="a" * 32,
        display_name="plan.pdf",
        content_type="application/pdf",
        size=2048,
        sha256="0" * 64,
    )
    html = render_panel(alice, booking)
    assert "plan.pdf" in html and "(2.0 KB)" in html
    assert 'enctype="multipart/form-data"' in html
    assert "Delete" in html


def test_an_approver_sees_the_list_without_the_form(bob, booking):
    html = render_panel(bob, booking)
    assert "Attachments" in html
    assert 'type="file"' not in html


def test_a_stranger_sees_nothing(dave, booking):
    assert render_panel(dave, booking).strip() == ""


def test_upload_download_and_delete_from_the_page(as_user, alice, booking, uploads_root):
    client = as_user(alice)
    response = client.post(
        f"/attachments/booking/{booking.pk}/upload",
        {"file": SimpleUploadedFile("letter.pdf", samples.pdf())},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.pk}/"
    attachment = Attachment.objects.get()
    download = client.get(f"/attachments/{attachment.pk}/download")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == samples.pdf()
    assert client.post(f"/attachments/{attachment.pk}/delete").status_code == 302
    assert not Attachment.objects.exists()


def test_a_refused_upload_says_why(as_user, alice, booking):
    client = as_user(alice)
    response = client.post(
        f"/attachments/booking/{booking.pk}/upload",
        {"file": SimpleUploadedFile("x.png", samples.png()[:-12])},
        follow=True,
    )
    assert "The file was not attached: The PNG image is incomplete" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_page_upload_checks_csrf(alice, booking):
    from tests.accounts.helpers import signed_in_client

    client = signed_in_client(Client(enforce_csrf_checks=True), alice)
    response = client.post(
        f"/attachments/booking/{booking.pk}/upload",
        {"file": SimpleUploadedFile("letter.pdf", samples.pdf())},
    )
    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_others_get_404_on_download(as_user, alice, dave, booking):
    client = as_user(alice)
    client.post(
        f"/attachments/booking/{booking.pk}/upload",
        {"file": SimpleUploadedFile("letter.pdf", samples.pdf())},
    )
    attachment = Attachment.objects.get()
    assert as_user(dave).get(f"/attachments/{attachment.pk}/download").status_code == 404


def test_the_booking_page_carries_the_panel(as_user, alice, bob, booking):
    from django.urls import reverse

    url = reverse("bookings:detail", args=[booking.pk])
    requester_page = as_user(alice).get(url).content.decode()
    assert 'id="attachments-heading"' in requester_page
    assert reverse("attachments:upload", args=[booking.pk]) in requester_page
    approver_page = as_user(bob).get(url).content.decode()
    assert 'id="attachments-heading"' in approver_page
    assert reverse("attachments:upload", args=[booking.pk]) not in approver_page
