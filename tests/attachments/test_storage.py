"""Files are written atomically under our own names; display names are made safe."""

from __future__ import annotations

import io
import os
import stat

import pytest

from bookdesk.attachments import storage

pytestmark = pytest.mark.static


@pytest.fixture
def uploads(settings, tmp_path):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    return settings.UPLOADS_ROOT


def test_it_stores_under_a_sharded_uuid_name_with_its_hash(uploads):
    stored = storage.store_file(io.BytesIO(b"hello"))
    assert len(stored.stored_name) == 32
    assert stored.path == uploads / stored.stored_name[:2] / stored.stored_name[2:4] / (
        stored.stored_name
    )
    assert stored.path.read_bytes() == b"hello"
    assert stored.size == 5
    assert stored.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert os.listdir(stored.path.parent) == [stored.stored_name]  # no temp file left


def test_a_failed_write_leaves_nothing_behind(uploads):
    class Exploding(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise OSError("disk went away")
            return super().read(3)

    with pytest.raises(OSError):
        storage.store_file(Exploding(b"abcdef"))
    assert [p for p in uploads.rglob("*") if p.is_file()] == []


def test_files_and_shards_are_readable_by_the_uploads_group_whatever_the_umask(uploads):
    # As deployed: the root belongs to the web server's group, setgid (docs: Permissions).
    uploads.mkdir()
    if os.geteuid() == 0:
        os.chown(uploads, -1, 65534)
    uploads.chmod(0o2750)
    previous = os.umask(0o077)  # a hardened service (systemd UMask=0077)
    try:
        stored = storage.store_file(io.BytesIO(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o640
    for shard in (stored.path.parent, stored.path.parent.parent):
        assert stat.S_IMODE(shard.stat().st_mode) == 0o2750, shard
    for path in (stored.path, stored.path.parent, stored.path.parent.parent):
        assert path.stat().st_gid == uploads.stat().st_gid, path


def test_delete_removes_the_file(uploads):
    stored = storage.store_file(io.BytesIO(b"x"))
    assert storage.delete_file(stored.stored_name) is True
    assert not stored.path.exists()
    assert storage.delete_file(stored.stored_name) is False


def test_path_for_refuses_anything_but_our_names(uploads):
    with pytest.raises(ValueError):
        storage.path_for("../../etc/passwd")


@pytest.mark.parametrize(
    ("given", "extension", "expected"),
    [
        ("letter.pdf", "pdf", "letter.pdf"),
        ("../../etc/passwd", "txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini", "txt", "win.txt"),
        ("C:\\Users\\me\\plan.docx", "docx", "plan.docx"),
        ("evil\x00.pdf", "pdf", "evil.pdf"),
        ("line\r\nbreak.txt", "txt", "linebreak.txt"),
        ("scan.PNG", "png", "scan.PNG"),
        ("photo.jpeg", "jpg", "photo.jpeg"),
        ("letter.png", "pdf", "letter.pdf"),  # a PDF with an image's name opens as a PDF
        ("report", "pdf", "report.pdf"),
        ("", "pdf", "attachment.pdf"),
        ("../", "pdf", "attachment.pdf"),
        ("...", "png", "attachment.png"),
        ("gpj\u202e.exe", "png", "gpj.png"),
        ("Einladung März.pdf", "pdf", "Einladung März.pdf"),
    ],
)
def test_display_names_are_sanitised(given, extension, expected):
    assert storage.sanitize_display_name(given, extension=extension) == expected


def test_a_500_character_name_is_cut_to_255_keeping_the_extension():
    name = storage.sanitize_display_name("a" * 500 + ".pdf", extension="pdf")
    assert len(name) == 255
    assert name.endswith("a.pdf")
