"""Small, real files of each kind, built in memory (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(text_chunks: dict[bytes, bytes] | None = None, trailer: bytes = b"") -> bytes:
    """A one-pixel grey PNG, optionally with tEXt chunks and bytes after IEND."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    body = _png_chunk(b"IHDR", ihdr)
    for key, value in (text_chunks or {}).items():
        body += _png_chunk(b"tEXt", key + b"\0" + value)
    body += _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    body += _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body + trailer


def jpeg(comment: bytes = b"") -> bytes:
    """Structurally valid baseline JPEG framing (SOI, APP0, COM, SOF0, SOS, data, EOI)."""

    def seg(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    out = b"\xff\xd8"
    out += seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += seg(0xFE, comment)
    out += seg(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00")
    out += seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    out += b"\x12\x34\x56\x78"
    return out + b"\xff\xd9"


def pdf(text: str = "Permission letter") -> bytes:
    body = (
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        f"% {text}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return body.encode()


def _zip(members: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for index, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


_CT = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Override PartName="/word/document.xml" ContentType="{}"/></Types>'
)


def docx(macro: bool = False) -> bytes:
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    members = [
        ("[Content_Types].xml", _CT.format(main).encode()),
        ("word/document.xml", b"<w:document/>"),
    ]
    if macro:
        members.append(("word/vbaProject.bin", b"\xd0\xcf\x11\xe0"))
    return _zip(members)


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "hello"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def odt(mimetype: str = "application/vnd.oasis.opendocument.text", macro: bool = False) -> bytes:
    members = [("mimetype", mimetype.encode()), ("content.xml", b"<office:document-content/>")]
    if macro:
        members.append(("Basic/Standard/Module1.xml", b"<script:module/>"))
    return _zip(members, stored_first=True)


def plain_zip() -> bytes:
    return _zip([("notes.txt", b"hello")])
