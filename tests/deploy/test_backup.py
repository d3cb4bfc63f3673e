"""bookdesk-backup (the backup role's tool) against the real PostgreSQL: the dump agrees with
its row counts even while writes go on, the restore drill passes on a good backup and fails
loudly on a damaged or incomplete one, uploads copies share unchanged files, retention keeps
the newest sets, and the metrics say what happened."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.deploy.terraform_code import ROOT

pytestmark = pytest.mark.postgres

SCRIPT = ROOT / "deploy" / "ansible" / "roles" / "backup" / "files" / "bookdesk-backup"
_loader = importlib.machinery.SourceFileLoader("bookdesk_backup", str(SCRIPT))
_spec = importlib.util.spec_from_loader("bookdesk_backup", _loader)
backup = importlib.util.module_from_spec(_spec)
_loader.exec_module(backup)


def server_url(database: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bookdesk")
    if not base.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/bookdesk"
    return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))


@pytest.fixture
def source_db():
    """A database shaped like Bookdesk's: a table with an exclusion constraint (btree_gist),
    a sequence, a second schema; dropped afterwards with the drill's scratch database."""
    name = f"bookdesk_backup_test_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    admin = psycopg.connect(server_url("postgres"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = server_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION btree_gist")
        conn.execute(
            "CREATE TABLE booking (id bigserial PRIMARY KEY, room int NOT NULL, "
            "during tstzrange NOT NULL, EXCLUDE USING gist (room WITH =, during WITH &&))"
        )
        conn.execute("CREATE SCHEMA audit")
        conn.execute("CREATE TABLE audit.event (id bigserial PRIMARY KEY, what text)")
        conn.execute(
            "INSERT INTO booking (room, during) SELECT n, tstzrange(now(), now() + interval '1h')"
            " FROM generate_series(1, 50) n"
        )
        conn.execute("INSERT INTO audit.event (what) SELECT 'e' || n FROM generate_series(1, 20) n")
    yield url
    for database in (name, f"{name}_restore_drill"):
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin.close()


def write_config(tmp_path: Path, **settings) -> Path:
    config = {
        "name": "test",
        "backup_dir": str(tmp_path / "backups"),
        "textfile_dir": str(tmp_path / "textfile"),
        "keep_days": 14,
        "keep_min": 3,
        **settings,
    }
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(config))
    return path


def run(config: Path, command: str) -> int:
    return backup.main(["--config", str(config), command])


def test_backup_and_drill_agree_while_writes_go_on(tmp_path, source_db, capsys):
    config = write_config(tmp_path, database=source_db)
    stop = threading.Event()

    def keep_writing():
        with psycopg.connect(source_db, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO audit.event (what) VALUES ('during the backup')")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert run(config, "run") == 0
    finally:
        stop.set()
        writer.join()
    [manifest] = sorted((tmp_path / "backups").glob("db-*.json"))
    content = json.loads(manifest.read_text())
    assert content["tables"]["public.booking"] == 50
    assert content["tables"]["audit.event"] >= 20
    assert run(config, "drill") == 0
    out = capsys.readouterr().out
    assert "2 tables" in out and "all equal" in out
    # The scratch database is gone again.
    with psycopg.connect(server_url("postgres")) as conn:
        scratch = f"{urlsplit(source_db).path.lstrip('/')}_restore_drill"
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (scratch,))
        assert found.fetchone() is None


def test_password_reaches_pg_dump_through_the_environment_only():
    url, password = backup.split_password("postgres://app:s%40cret@db.internal:5432/bookdesk")
    assert (url, password) == ("postgres://app@db.internal:5432/bookdesk", "s@cret")
    assert backup.tool_env("postgres://app:s%40cret@db:5432/x")["PGPASSWORD"] == "s@cret"
    assert backup.with_database("postgres://app@db:5432/bookdesk", "postgres").endswith("/postgres")
    assert backup.with_database("host=/run/postgresql dbname=x", "postgres") == (
        "host=/run/postgresql dbname=postgres"
    )


def test_drill_fails_when_counts_differ(tmp_path, source_db, capsys):
    config = write_config(tmp_path, database=source_db)
    assert run(config, "run") == 0
    [manifest] = sorted((tmp_path / "backups").glob("db-*.json"))
    content = json.loads(manifest.read_text())
    content["tables"]["public.booking"] += 1  # what a dump that missed a row would show
    manifest.write_text(json.dumps(content))
    assert run(config, "drill") == 1
    err = capsys.readouterr().err
    assert "public.booking: 51 rows in the backup's snapshot, 50 restored" in err


def test_drill_refuses_a_damaged_dump(tmp_path, source_db, capsys):
    config = write_config(tmp_path, database=source_db)
    assert run(config, "run") == 0
    [dump] = (tmp_path / "backups").glob("db-*.dump")
    dump.write_bytes(dump.read_bytes()[:-100])
    assert run(config, "drill") == 1
    assert "checksum differs" in capsys.readouterr().err
    status = json.loads((tmp_path / "backups" / "status.json").read_text())
    assert status["drill"]["ok"] is False
    assert status["run"]["ok"] is True


def test_a_dump_without_its_manifest_is_never_used(tmp_path, source_db, capsys):
    config = write_config(tmp_path, database=source_db)
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "db-20260101T000000Z.dump").write_bytes(b"half a dump")
    assert run(config, "drill") == 1
    assert "no complete database backup" in capsys.readouterr().err


def test_uploads_copies_link_unchanged_files_and_the_drill_checks_them(tmp_path, capsys):
    uploads = tmp_path / "uploads"
    (uploads / "ab" / "cd").mkdir(parents=True)
    (uploads / "ab" / "cd" / "one").write_bytes(b"1" * 1000)
    (uploads / "ab" / "cd" / "two").write_bytes(b"2" * 500)
    (uploads / "ab" / "cd" / ".upload-123.tmp").write_bytes(b"half")
    config = write_config(tmp_path, uploads_dir=str(uploads))
    assert run(config, "run") == 0
    time.sleep(1.1)  # the next set gets the next second's stamp
    (uploads / "ab" / "cd" / "three").write_bytes(b"3" * 10)
    assert run(config, "run") == 0
    first, second = sorted((tmp_path / "backups").glob("uploads-*.json"))
    newest = json.loads(second.read_text())
    assert newest["count"] == 3 and newest["linked"] == 2 and newest["bytes"] == 1510
    old_one = tmp_path / "backups" / first.stem / "ab" / "cd" / "one"
    new_one = tmp_path / "backups" / second.stem / "ab" / "cd" / "one"
    assert old_one.stat().st_ino == new_one.stat().st_ino, "an unchanged file costs nothing"
    assert not list((tmp_path / "backups").rglob("*.tmp"))
    assert run(config, "drill") == 0
    (tmp_path / "backups" / second.stem / "ab" / "cd" / "three").unlink()
    assert run(config, "drill") == 1
    assert "ab/cd/three: missing" in capsys.readouterr().err


def test_retention_removes_old_sets_but_keeps_the_newest(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 7):  # six nightly sets, all older than keep_days
        stamp = f"202601{day:02d}T023000Z"
        (backups / f"db-{stamp}.dump").write_bytes(b"x")
        (backups / f"db-{stamp}.json").write_text(json.dumps({"file": f"db-{stamp}.dump"}))
    config = backup.load_config(write_config(tmp_path, keep_days=14, keep_min=3))
    removed = backup.prune(config)
    assert removed == ["db-20260101T023000Z", "db-20260102T023000Z", "db-20260103T023000Z"]
    assert sorted(p.name for p in backups.glob("db-*.dump")) == [
        "db-20260104T023000Z.dump",
        "db-20260105T023000Z.dump",
        "db-20260106T023000Z.dump",
    ]


def test_metrics_say_when_each_action_last_succeeded(tmp_path, source_db):
    config = write_config(tmp_path, database=source_db)
    assert run(config, "run") == 0
    assert run(config, "drill") == 0
    assert run(config, "metrics") == 0
    text = (tmp_path / "textfile" / "bookdesk_backup_test.prom").read_text()
    assert 'bookdesk_backup_last_ok{set="test",action="run"} 1' in text
    assert 'bookdesk_backup_last_ok{set="test",action="drill"} 1' in text
    assert 'bookdesk_backup_size_bytes{set="test",kind="db"}' in text
    success = [
        line
        for line in text.splitlines()
        if line.startswith(
            'bookdesk_backup_last_success_timestamp_seconds{set="test",action="run"}'
        )
    ]
    assert abs(float(success[0].split()[-1]) - time.time()) < 120


def test_a_failed_backup_is_recorded_and_keeps_its_last_success(tmp_path, source_db):
    config = write_config(tmp_path, database=source_db)
    assert run(config, "run") == 0
    broken = write_config(tmp_path, database=server_url("no_such_database_here"))
    assert run(broken, "run") == 1
    status = json.loads((tmp_path / "backups" / "status.json").read_text())
    assert status["run"]["ok"] is False
    assert status["run"]["last_success"] < status["run"]["last_run"]
    assert "no_such_database_here" in status["run"]["detail"]["error"]
