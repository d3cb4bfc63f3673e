"""Decide what an uploaded file is from its bytes, and refuse what we do not keep.

The client's file name and Content-Type are never trusted: a file is accepted only when its
content is one of the kinds below and is complete. Decisions:

- empty or truncated/corrupt files (PNG without IEND, JPEG without EOI, PDF without %%EOF,
  a zip that cannot be read) → 422: the type is one we take, but the file is broken;
- anything that is not one of our types, macro-enabled Office files, and polyglots (an image
  or text that also carries HTML/script a browser could sniff) → 415.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import filetype

from bookdesk.core.errors import (
    BadRequest,
    DomainError,
    Invalid,
    TooLarge,
    Unsupported,
)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"

EXTENSIONS = {
    PDF: "pdf",
    PNG: "png",
    JPEG: "jpg",
    TEXT: "txt",
    DOCX: "docx",
    XLSX: "xlsx",
    ODT: "odt",
}
# Extensions that are fine for a type besides the canonical one (kept on display names).
EXTENSION_ALIASES = {JPEG: {"jpg", "jpeg", "jpe"}, TEXT: {"txt", "text", "log", "md", "csv"}}

ACCEPTED_DESCRIPTION = "PDF, PNG, JPEG, plain text (UTF-8), DOCX, XLSX or ODT"

# Markup a browser would act on if it ever sniffed the bytes as HTML or SVG.
_MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed|meta|"
    rb"a\s+href|img\s|style|link\s|form)|javascript:",
    re.IGNORECASE,
)
# Browsers sniff at most the first 512 bytes; check a little more.
_SNIFF_WINDOW = 1024
# A zip whose members would expand beyond this is refused (zip bombs).
_MAX_UNZIPPED = 200 * 1024 * 1024
_MAX_ZIP_MEMBERS = 5000


class UploadRejected(DomainError):
    """The upload is refused; each kind below is also the domain kind it belongs to."""


class UploadTooLarge(UploadRejected, TooLarge):
    code = "too_large"


class UploadUnsupported(UploadRejected, Unsupported):
    code = "unsupported_media_type"


class UploadBroken(UploadRejected, Invalid):
    code = "corrupt_file"


class UploadIncomplete(UploadRejected, BadRequest):
    code = "upload_interrupted"


def _unsupported(detail: str) -> UploadRejected:
    return UploadUnsupported(detail)


def _broken(detail: str) -> UploadRejected:
    return UploadBroken(detail)


@dataclass(frozen=True)
class Detected:
    content_type: str
    extension: str


def detect_type(fileobj: BinaryIO) -> Detected:
    """Return the accepted type of ``fileobj`` (seekable, binary) or raise UploadRejected."""
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size == 0:
        raise UploadBroken("The file is empty.", code="empty_file")
    head = fileobj.read(8192)
    fileobj.seek(0)

    if head.startswith(b"%PDF-"):
        _check_pdf(fileobj, size, head)
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png(fileobj, size, head)
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        _check_jpeg(fileobj, size, head)
        kind = JPEG
    elif head.startswith(b"PK\x03\x04"):
        kind = _check_zip_document(fileobj)
    elif head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise _unsupported("This is an empty or split zip archive, not a document.")
    else:
        guessed = filetype.guess(head)
        if guessed is not None:
            raise _unsupported(
                f"Files of type {guessed.mime} are not accepted. Attach {ACCEPTED_DESCRIPTION}."
            )
        _check_text(fileobj)
        kind = TEXT
    fileobj.seek(0)
    return Detected(content_type=kind, extension=EXTENSIONS[kind])


def _refuse_markup(data: bytes, where: str) -> None:
    if _MARKUP.search(data):
        raise _unsupported(
            f"The file contains HTML or script markup in its {where}; "
            "files that a browser could run as a web page are not accepted."
        )


def _check_pdf(fileobj: BinaryIO, size: int, head: bytes) -> None:
    fileobj.seek(max(0, size - 1024))
    tail = fileobj.read()
    if b"%%EOF" not in tail:
        raise _broken("The PDF is incomplete (it has no %%EOF end marker); upload it again.")
    # A PDF holds arbitrary streams, so only its beginning is checked for sniffable HTML.
    _refuse_markup(head[:_SNIFF_WINDOW], "first bytes")


_PNG_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}


def _check_png(fileobj: BinaryIO, size: int, head: bytes) -> None:
    _refuse_markup(head[:_SNIFF_WINDOW], "first bytes")
    pos = 8
    fileobj.seek(pos)
    seen_header = False
    while True:
        header = fileobj.read(8)
        if len(header) < 8:
            raise _broken("The PNG image is incomplete (it ends before its IEND chunk).")
        length, ctype = struct.unpack(">I4s", header)
        if length > size:
            raise _broken("The PNG image is corrupt (a chunk is longer than the file).")
        if not seen_header and ctype != b"IHDR":
            raise _broken("The PNG image is corrupt (it does not start with IHDR).")
        seen_header = True
        if ctype in _PNG_TEXT_CHUNKS:
            data = fileobj.read(length)
            if len(data) < length:
                raise _broken("The PNG image is incomplete (it ends inside a chunk).")
            _refuse_markup(_png_text(ctype, data), "text chunks")
            crc = fileobj.read(4)
        else:
            fileobj.seek(length, 1)
            crc = fileobj.read(4)
        if len(crc) < 4 or fileobj.tell() > size:
            raise _broken("The PNG image is incomplete (it ends inside a chunk).")
        if ctype == b"IEND":
            break
    if fileobj.tell() != size:
        # Bytes after IEND are how PNG/zip and PNG/HTML polyglots are built.
        raise _unsupported(
            "The PNG image has data after its end (IEND); such files can hide another "
            "format and are not accepted."
        )


def _png_text(ctype: bytes, data: bytes) -> bytes:
    if ctype == b"zTXt":
        _keyword, _, rest = data.partition(b"\0")
        return _keyword + b" " + _inflate_bounded(rest[1:])
    if ctype == b"iTXt":
        keyword, _, rest = data.partition(b"\0")
        compressed = rest[:1] == b"\x01"
        # flag, method, language\0, translated keyword\0, text
        parts = rest[2:].split(b"\0", 2)
        text = parts[2] if len(parts) == 3 else b""
        return keyword + b" " + (_inflate_bounded(text) if compressed else text)
    return data


def _inflate_bounded(data: bytes, limit: int = 1024 * 1024) -> bytes:
    try:
        return zlib.decompressobj().decompress(data, limit)
    except zlib.error:
        raise _broken("The PNG image is corrupt (a compressed text chunk is damaged).") from None


def _check_jpeg(fileobj: BinaryIO, size: int, head: bytes) -> None:
    _refuse_markup(head[:_SNIFF_WINDOW], "first bytes")
    fileobj.seek(max(0, size - 4096))
    tail = fileobj.read().rstrip(b"\0")  # some cameras pad after EOI
    if not tail.endswith(b"\xff\xd9"):
        raise _broken("The JPEG image is incomplete (it has no end-of-image marker).")
    # Walk the header segments up to the image data; comments and APPn segments can
    # carry text, which must not be markup.
    fileobj.seek(2)
    while True:
        marker = fileobj.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            raise _broken("The JPEG image is corrupt (its segment markers are damaged).")
        kind = marker[1]
        if kind == 0xD8 or 0xD0 <= kind <= 0xD7 or kind == 0x01:
            continue  # markers without a length
        if kind == 0xFF:
            fileobj.seek(-1, 1)  # fill byte
            continue
        raw = fileobj.read(2)
        if len(raw) < 2:
            raise _broken("The JPEG image is incomplete (it ends inside a segment).")
        (length,) = struct.unpack(">H", raw)
        data = fileobj.read(length - 2)
        if len(data) < length - 2:
            raise _broken("The JPEG image is incomplete (it ends inside a segment).")
        if kind == 0xFE or 0xE0 <= kind <= 0xEF:
            _refuse_markup(data, "comment or metadata segments")
        if kind == 0xDA:  # start of scan: compressed data follows
            return


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _check_text(fileobj: BinaryIO) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    fileobj.seek(0)
    first = True
    while True:
        chunk = fileobj.read(64 * 1024)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise _unsupported(
                "The file is not one of the accepted types and is not UTF-8 text. "
                f"Attach {ACCEPTED_DESCRIPTION}."
            ) from None
        if first:
            text = text.removeprefix("\ufeff")
            # A text file that begins like a web page is HTML, which we do not take.
            _refuse_markup(text.lstrip()[:_SNIFF_WINDOW].encode(), "first bytes")
            first = False
        if _CONTROL.search(text):
            raise _unsupported(
                "The file contains NUL or control characters, so it is not plain text. "
                f"Attach {ACCEPTED_DESCRIPTION}."
            )
        if not chunk:
            return


_OOXML_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}


def _check_zip_document(fileobj: BinaryIO) -> str:
    try:
        archive = zipfile.ZipFile(fileobj)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _broken(
            "The document is corrupt or incomplete (its zip structure cannot be read)."
        ) from None
    with archive:
        if len(infos) > _MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > _MAX_UNZIPPED:
            raise _unsupported("The archive expands to too much data to be a document.")
        names = {info.filename for info in infos}
        if any(info.flag_bits & 0x1 for info in infos):
            raise _unsupported("Encrypted documents are not accepted.")
        try:
            # Reading every member checks its CRC: a damaged document is caught here.
            bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
            bad = "?"
        except NotImplementedError:
            raise _unsupported("The document uses an unsupported zip compression.") from None
        if bad is not None:
            raise _broken("The document is corrupt (a part of it fails its checksum).")

        if "[Content_Types].xml" in names:
            types = archive.read("[Content_Types].xml")
            lowered_names = {n.lower() for n in names}
            if (
                b"macroenabled" in types.lower()
                or b"vbaproject" in types.lower()
                or any(n.endswith("vbaproject.bin") for n in lowered_names)
            ):
                raise _unsupported(
                    "Macro-enabled Office documents are not accepted; save it as "
                    "a plain DOCX or XLSX."
                )
            for marker, kind in _OOXML_MAIN.items():
                if marker in types:
                    return kind
            raise _unsupported(
                f"This Office file is not a Word or Excel document. Attach {ACCEPTED_DESCRIPTION}."
            )
        if infos and infos[0].filename == "mimetype":
            mimetype = archive.read("mimetype").strip()
            if mimetype != ODT.encode():
                raise _unsupported(
                    f"OpenDocument files of type {mimetype.decode(errors='replace')} are "
                    f"not accepted; only text documents (ODT)."
                )
            if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                raise _unsupported("OpenDocument files with macros or scripts are not accepted.")
            return ODT
    raise _unsupported(f"Zip archives are not accepted. Attach {ACCEPTED_DESCRIPTION}.")
