"""The migrations stage (deploy/pipeline/migrations_check.py): which migrations are new
since the target branch, and which of them the release still running cannot live with."""

from __future__ import annotations

import subprocess

import pytest

from tests.pipeline.scripts import load

check = load("migrations_check")

FIXTURES = "tests.pipeline.incompatible_migrations"


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.org")
    git(tmp_path, "config", "user.name", "t")
    migrations = tmp_path / "src" / "bookdesk" / "rooms" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_initial.py").write_text("# released\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "released")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    return tmp_path


@pytest.mark.static
def test_new_migrations_are_those_since_the_merge_base_committed_or_not(repo):
    migrations = repo / "src" / "bookdesk" / "rooms" / "migrations"
    (migrations / "0002_committed.py").write_text("# new\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature work")
    (migrations / "0003_untracked.py").write_text("# newer\n")
    (repo / "src" / "bookdesk" / "rooms" / "models.py").write_text("# not a migration\n")
    added, edited = check.changed_migration_files("main", cwd=repo)
    assert added == [
        "src/bookdesk/rooms/migrations/0002_committed.py",
        "src/bookdesk/rooms/migrations/0003_untracked.py",
    ]
    assert edited == []
    assert [check.migration_key(p) for p in added] == [
        ("rooms", "0002_committed"),
        ("rooms", "0003_untracked"),
    ]


@pytest.mark.static
def test_an_edited_released_migration_is_noticed(repo):
    (repo / "src" / "bookdesk" / "rooms" / "migrations" / "0001_initial.py").write_text("# x\n")
    added, edited = check.changed_migration_files("main", cwd=repo)
    assert added == []
    assert edited == ["src/bookdesk/rooms/migrations/0001_initial.py"]


@pytest.mark.static
def test_main_itself_has_nothing_new(repo):
    git(repo, "checkout", "-q", "main")
    assert check.changed_migration_files("main", cwd=repo) == ([], [])


@pytest.mark.static
def test_allowed_entries_need_a_reason(tmp_path):
    allowed = tmp_path / "allowed.txt"
    allowed.write_text("# comment\nops.0002_drop_size  nothing reads size since release 0.3\n")
    assert check.read_allowed(allowed) == {
        "ops.0002_drop_size": "nothing reads size since release 0.3"
    }
    allowed.write_text("ops.0002_drop_size\n")
    with pytest.raises(SystemExit, match="give the reason"):
        check.read_allowed(allowed)


@pytest.fixture
def gadget_migrations(settings):
    settings.MIGRATION_MODULES = {"ops": FIXTURES}


def errors_of(name: str) -> list[str]:
    return [f.message for f in check.lint_migrations([("ops", name)]) if f.level == "error"]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0002_drop_size", "DROPPING columns"),
        ("0003_rename_name", "RENAMING columns"),
        ("0004_weight_not_null", "NOT NULL constraint on columns"),
    ],
)
def test_what_breaks_the_running_release_is_an_error(db, gadget_migrations, name, expected):
    found = errors_of(name)
    assert found, f"{name} passed"
    assert any(expected in message for message in found), found


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["0001_initial", "0005_colour_nullable", "0006_count_db_default"])
def test_what_the_running_release_can_live_with_passes(db, gadget_migrations, name):
    assert errors_of(name) == []


@pytest.mark.postgres
def test_judge_fails_new_errors_and_edits_unless_allowed(db, gadget_migrations, monkeypatch):
    failing, notes = check.judge(
        [("ops", "0002_drop_size"), ("ops", "0005_colour_nullable")], [("ops", "0001_initial")], {}
    )
    assert {f.migration for f in failing} == {"ops.0002_drop_size", "ops.0001_initial"}
    assert any("edited after it reached the target branch" in str(f) for f in failing)
    failing, notes = check.judge(
        [("ops", "0002_drop_size")],
        [],
        {"ops.0002_drop_size": "the contract step: nothing has read size since 0.3"},
    )
    assert failing == []
    assert any(note.startswith("allowed: ERROR: ops.0002_drop_size") for note in notes)
