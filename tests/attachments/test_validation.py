"""The type of an upload comes from its bytes; broken and disguised files are refused."""

from __future__ import annotations

import io

import pytest

from bookdesk.attachments.validation import UploadRejected, detect_type
from bookdesk.core.http import status_for
from tests.attachments import samples

pytestmark = pytest.mark.static


def kind(data: bytes) -> str:
    return detect_type(io.BytesIO(data)).content_type


def rejected(data: bytes) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        detect_type(io.BytesIO(data))
    return info.value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (samples.pdf(), "application/pdf"),
        (samples.png(), "image/png"),
        (samples.jpeg(), "image/jpeg"),
        (b"Dear approver,\n\tplease find the plan below.\r\n", "text/plain"),
        ("Grüße aus Köln — 東京\n".encode(), "text/plain"),
        (
            samples.docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (samples.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (samples.odt(), "application/vnd.oasis.opendocument.text"),
    ],
)
def test_it_recognises_each_accepted_type(data, expected):
    assert kind(data) == expected


def test_it_accepts_a_png_with_harmless_text_chunks():
    assert kind(samples.png({b"Software": b"Bookdesk test"})) == "image/png"


def test_it_rejects_an_empty_file_with_422():
    err = rejected(b"")
    assert (status_for(err), err.code, err.detail) == (422, "empty_file", "The file is empty.")


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (samples.png()[:-12], "PNG image is incomplete"),
        (samples.png()[:40], "PNG image is incomplete"),
        (samples.jpeg()[:-2], "JPEG image is incomplete"),
        (samples.pdf().replace(b"%%EOF", b""), "PDF is incomplete"),
        (samples.docx()[:-30], "corrupt or incomplete"),
    ],
)
def test_it_rejects_truncated_files_with_422(data, phrase):
    err = rejected(data)
    assert status_for(err) == 422
    assert err.code == "corrupt_file"
    assert phrase in err.detail


def test_it_rejects_a_zip_member_with_a_bad_checksum():
    data = bytearray(samples.docx())
    index = data.index(b"word/document.xml") + len(b"word/document.xml")
    data[index + 2] ^= 0xFF  # flip a byte of the compressed member
    err = rejected(bytes(data))
    assert status_for(err) == 422


@pytest.mark.parametrize(
    "data",
    [
        samples.png({b"Comment": b"<html><script>alert(1)</script></html>"}),
        samples.png({b"Comment": b"<SCRIPT src=//evil.example/x.js>"}),
        samples.png(trailer=b"<html><body>hi</body></html>"),
        samples.jpeg(comment=b"<svg onload=alert(1)>"),
        b"<!DOCTYPE html><html><body>not text</body></html>",
        samples.pdf().replace(b"%PDF-1.4\n", b"%PDF-1.4\n<script>alert(1)</script>\n"),
    ],
    ids=["png-text-html", "png-text-script", "png-trailer", "jpeg-comment", "html", "pdf-head"],
)
def test_it_rejects_polyglots_and_html_with_415(data):
    err = rejected(data)
    assert status_for(err) == 415
    assert err.code == "unsupported_media_type"


def test_the_polyglot_message_says_why():
    err = rejected(samples.png({b"Comment": b"<html>"}))
    assert "HTML or script markup" in err.detail


def test_it_rejects_data_after_the_png_end():
    err = rejected(samples.png(trailer=b"PK\x03\x04 zip appended"))
    assert status_for(err) == 415
    assert "data after its end" in err.detail


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (samples.docx(macro=True), "Macro-enabled"),
        (samples.odt(macro=True), "macros or scripts"),
        (samples.odt(mimetype="application/vnd.oasis.opendocument.spreadsheet"), "only text"),
        (samples.plain_zip(), "Zip archives are not accepted"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        (b"MZ\x90\x00" + b"\x00" * 60, "not accepted"),
        (b"plain start\x00with a NUL", "NUL or control characters"),
        (b"\x1b[31mterminal escape", "NUL or control characters"),
        (b"\xff\xfe not utf8 \xc3\x28", "not UTF-8 text"),
    ],
)
def test_it_rejects_other_types_with_a_clear_415(data, phrase):
    err = rejected(data)
    assert status_for(err) == 415
    assert phrase in err.detail


def test_it_names_the_accepted_types_when_refusing():
    err = rejected(samples.plain_zip())
    assert "PDF, PNG, JPEG, plain text (UTF-8), DOCX, XLSX or ODT" in err.detail
