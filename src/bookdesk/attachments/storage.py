"""Attachment files, with names we make ourselves: on disk under settings.UPLOADS_ROOT, or
with UPLOADS_STORAGE=s3 as objects in a bucket (django-storages, STORAGES["uploads"]).

Layout: ``<aa>/<bb>/<uuid hex>`` below UPLOADS_ROOT or the bucket's prefix — two levels of
shards keep directories small. On disk, writes go to a temporary file in the final
directory, are fsynced and then renamed into place, so a crash leaves either the whole file
or a ``.tmp-*`` that the orphan command removes — never a half file under a real name. An
object upload is atomic by itself: the object exists whole once the PUT succeeds.

Permissions: files 0640 and directories 0750 whatever the process umask, so the owner (the
app) and the directory's group can read them and nobody else. Deployed, UPLOADS_ROOT
belongs to the web server's group with the setgid bit (mode 2750), which every shard
directory inherits, so nginx can send the files (X-Accel-Redirect) without the uploads
being readable by every user of the host (docs/uploads-and-exports.md, "Permissions").
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

TEMP_PREFIX = ".tmp-"
FILE_MODE = 0o640
DIR_MODE = 0o750
MAX_DISPLAY_NAME = 255
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")


def uploads_root() -> Path:
    return Path(settings.UPLOADS_ROOT)


def object_store():
    """The bucket's django-storages backend with UPLOADS_STORAGE=s3, else None (disk)."""
    if settings.UPLOADS_STORAGE != "s3":
        return None
    from django.core.files.storage import storages

    return storages["uploads"]


def uploads_root_checked() -> Path:
    """UPLOADS_ROOT for health checks and metrics. A fresh laptop has no uploads directory
    yet, so it is made there; a deployed host must have its volume mounted, and making the
    directory would hide a missing mount, so there its absence is left to be reported."""
    root = uploads_root()
    if not root.is_dir() and not settings.IS_DEPLOYED:
        root.mkdir(parents=True, exist_ok=True)
    return root


def new_stored_name() -> str:
    return uuid.uuid4().hex


def path_for(stored_name: str) -> Path:
    """The absolute path of a stored file. Refuses anything that is not one of our names."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored name: {stored_name!r}")
    return uploads_root() / relative_path(stored_name)


def relative_path(stored_name: str) -> str:
    return f"{stored_name[:2]}/{stored_name[2:4]}/{stored_name}"


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    size: int
    sha256: str
    path: Path  # on disk; the object's key (relative) in a bucket


def _make_dirs(path: Path) -> None:
    """mkdir -p with DIR_MODE for each directory made, whatever the umask (under
    UMask=0077 mkdir alone gives 0700, which nginx cannot enter).

    A new directory inherits the setgid bit of its parent. Setting its mode again keeps
    that bit only for a member of the directory's group (the kernel clears it otherwise),
    so the app's user belongs to the uploads group, and the mode is set only when the umask
    took something away."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made by a concurrent upload
        mode = directory.stat().st_mode
        if stat.S_IMODE(mode) & 0o777 != DIR_MODE:
            os.chmod(directory, DIR_MODE | (mode & stat.S_ISGID))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_file(source: BinaryIO, *, chunk_size: int = 1024 * 1024) -> StoredFile:
    """Copy ``source`` into the store atomically and return its name, size and SHA-256."""
    store = object_store()
    if store is not None:
        return _store_object(store, source, chunk_size=chunk_size)
    stored_name = new_stored_name()
    final = path_for(stored_name)
    _make_dirs(final.parent)
    digest = hashlib.sha256()
    size = 0
    source.seek(0)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(chunk_size):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(final.parent)
    return StoredFile(stored_name=stored_name, size=size, sha256=digest.hexdigest(), path=final)


def _store_object(store, source: BinaryIO, *, chunk_size: int) -> StoredFile:
    from django.core.files import File

    stored_name = new_stored_name()
    digest = hashlib.sha256()
    size = 0
    source.seek(0)
    while chunk := source.read(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    source.seek(0)
    key = relative_path(stored_name)
    store.save(key, File(source, name=key))
    return StoredFile(stored_name=stored_name, size=size, sha256=digest.hexdigest(), path=Path(key))


def delete_file(stored_name: str) -> bool:
    """Remove a stored file; True if it existed. Empty shard directories stay (cheap).
    In a bucket the answer is always True: a DELETE does not say whether the key was there."""
    store = object_store()
    if store is not None:
        store.delete(path_for(stored_name).relative_to(uploads_root()).as_posix())
        return True
    try:
        path_for(stored_name).unlink()
    except FileNotFoundError:
        return False
    return True


def iter_stored_files() -> Iterable[tuple[str, Path]]:
    """Every file in the store as (stored name or '', path); '' marks a stray file."""
    root = uploads_root()
    if not root.is_dir():
        return
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for filename in filenames:
            path = Path(dirpath) / filename
            if _STORED_NAME.match(filename) and str(rel) == f"{filename[:2]}/{filename[2:4]}":
                yield filename, path
            else:
                yield "", path


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')


def sanitize_display_name(name: str | None, *, extension: str) -> str:
    """A name safe to show and to offer in Content-Disposition.

    Keeps only the last path component, drops control characters (NUL included) and
    characters that file systems refuse, caps the length at 255 characters while keeping the
    extension, and makes sure the extension matches the type decided from the content (a PDF
    called ``letter.png`` is offered as ``letter.pdf``, so it opens with the right program).
    """
    from bookdesk.attachments.validation import EXTENSION_ALIASES

    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_CHARS.sub("", name)
    # Bidi overrides can disguise an extension ("evil\u202Egpj.exe").
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = name.strip().strip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    allowed = EXTENSION_ALIASES.get(_type_for_extension(extension), set()) | {extension}
    if ext.lower() not in allowed:
        # A mismatching extension is dropped when it is short (a real extension),
        # otherwise it was part of the name.
        if dot and 1 <= len(ext) <= 5 and ext.isalnum():
            ext = extension
        else:
            stem, ext = name, extension
    stem = stem.strip() or "attachment"
    room = MAX_DISPLAY_NAME - len(ext) - 1
    return f"{stem[:room].rstrip()}.{ext}"


def _type_for_extension(extension: str) -> str:
    from bookdesk.attachments.validation import EXTENSIONS

    for content_type, ext in EXTENSIONS.items():
        if ext == extension:
            return content_type
    return ""
