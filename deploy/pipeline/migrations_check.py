"""The migrations stage: the schema is in step with the models, builds from nothing on both
databases, the newest migration of each app reverses, and nothing added since the target
branch breaks the release that is still running.

Blue/green deploys run the old release against the new schema until the cutover (and after
a rollback), so a migration that drops, renames or tightens what the old code reads or
writes is refused here. Such a change is made in two releases (expand, then contract; see
docs/pipeline.md); the contract step, once no running release uses the column, is listed
with its reason in deploy/pipeline/migrations-allowed.txt.

Usage (the Makefile's `migrations` target):
    python deploy/pipeline/migrations_check.py --postgres URL --base main
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
ALLOWED_FILE = Path(__file__).resolve().parent / "migrations-allowed.txt"
OUR_PACKAGE = "bookdesk"


@dataclass(frozen=True)
class Finding:
    migration: str  # "app_label.name"
    level: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.level.upper()}: {self.migration}: {self.message}"


# --- which migrations are new -------------------------------------------------------------


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def is_migration_file(path: str) -> bool:
    parts = Path(path).parts
    return (
        len(parts) >= 2
        and parts[-2] == "migrations"
        and path.endswith(".py")
        and not path.endswith("__init__.py")
    )


def changed_migration_files(base: str, cwd: Path = ROOT) -> tuple[list[str], list[str]]:
    """Migration files (added, edited) in the work tree relative to ``base``'s merge-base.

    Added includes files git does not track yet: a migration made a minute ago counts.
    """
    merge_base = git("merge-base", base, "HEAD", cwd=cwd).strip()
    added, edited = set(), set()
    for line in git("diff", "--name-status", "--no-renames", merge_base, cwd=cwd).splitlines():
        status, _, path = line.partition("\t")
        if not is_migration_file(path):
            continue
        if status.startswith("A"):
            added.add(path)
        elif status.startswith("M"):
            edited.add(path)
    for path in git("ls-files", "--others", "--exclude-standard", cwd=cwd).splitlines():
        if is_migration_file(path):
            added.add(path)
    return sorted(added), sorted(edited)


def migration_key(path: str) -> tuple[str, str]:
    """src/bookdesk/bookings/migrations/0003_x.py -> ("bookings", "0003_x")."""
    parts = Path(path).parts
    return parts[-3], Path(path).stem


def read_allowed(path: Path = ALLOWED_FILE) -> dict[str, str]:
    """``app_label.name  reason`` per line; every entry must give its reason."""
    allowed = {}
    if not path.exists():
        return allowed
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if len(reason.split()) < 3:
            raise SystemExit(f"{path.name}:{number}: give the reason for allowing {name}")
        allowed[name] = reason.strip()
    return allowed


# --- backward compatibility (inside Django, on PostgreSQL) -------------------------------


def lint_migrations(keys: list[tuple[str, str]]) -> list[Finding]:
    """What django-migration-linter finds in these migrations' PostgreSQL SQL.

    Errors are operations the previous release cannot live with (a dropped, renamed or
    newly NOT NULL column, a dropped or renamed table, ...); warnings are worth a look
    (e.g. a data migration that cannot be reversed).
    """
    from django.db import connection
    from django_migration_linter import MigrationLinter
    from django_migration_linter.sql_analyser import analyse_sql_statements
    from django_migration_linter.sql_analyser.postgresql import PostgresqlAnalyser

    linter = MigrationLinter(no_output=True, analyser_string="postgresql")
    findings = []
    for app_label, name in keys:
        label = f"{app_label}.{name}"
        migration = linter.migration_loader.get_migration(app_label, name)
        # SQLite's SQL rebuilds whole tables: only the PostgreSQL form is judged.
        sql = linter.get_sql(app_label, name) if connection.vendor == "postgresql" else []
        errors, _ignored, warnings = analyse_sql_statements(PostgresqlAnalyser, sql)
        data_errors, _data_ignored, data_warnings = linter.analyse_data_migration(migration)
        for issue in [*errors, *data_errors]:
            findings.append(Finding(label, "error", _describe(issue)))
        for issue in [*warnings, *data_warnings]:
            findings.append(Finding(label, "warning", _describe(issue)))
    return findings


def _describe(issue) -> str:
    where = ""
    if getattr(issue, "table", None):
        where = f" (table {issue.table}" + (f", column {issue.column}" if issue.column else "")
        where += ")"
    return f"{issue.message}{where}"


def judge(
    keys: list[tuple[str, str]], edited: list[tuple[str, str]], allowed: dict[str, str]
) -> tuple[list[Finding], list[str]]:
    """Findings that fail the stage, and lines to print about the rest."""
    notes = []
    failing = []
    for app_label, name in edited:
        label = f"{app_label}.{name}"
        if label in allowed:
            notes.append(f"allowed: {label} was edited ({allowed[label]})")
        else:
            failing.append(
                Finding(
                    label,
                    "error",
                    "edited after it reached the target branch: a database that applied the "
                    "old version never runs the new one; add a new migration instead",
                )
            )
    for finding in lint_migrations(keys):
        if finding.level == "error" and finding.migration in allowed:
            notes.append(f"allowed: {finding} ({allowed[finding.migration]})")
        elif finding.level == "error":
            failing.append(finding)
        else:
            notes.append(str(finding))
    return failing, notes


# --- building and reversing (one child process per database) ------------------------------


def our_apps() -> list[str]:
    from django.apps import apps

    return sorted(
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith(f"{OUR_PACKAGE}.")
        and (Path(config.path) / "migrations" / "__init__.py").exists()
    )


def roundtrip() -> list[str]:
    """Migrate an empty database, then reverse each app's newest migration and re-apply."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    problems = []
    call_command("migrate", interactive=False, verbosity=0)
    loader = MigrationLoader(connection)
    for app_label in our_apps():
        leaves = loader.graph.leaf_nodes(app_label)
        if not leaves:
            continue
        newest = leaves[0]
        parents = [p for p in loader.graph.node_map[newest].parents if p[0] == app_label]
        target = parents[0][1] if parents else "zero"
        try:
            call_command("migrate", app_label, target, interactive=False, verbosity=0)
            call_command("migrate", interactive=False, verbosity=0)
        except Exception as exc:  # any failure is the finding; report it and go on
            problems.append(f"{app_label}.{newest[1]} does not reverse to {target}: {exc}")
        else:
            print(f"  {app_label}.{newest[1]}: reversed to {target} and re-applied")
    return problems


def child_main(mode: str, keys: list[str], edited: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")
    django.setup()
    if mode == "roundtrip":
        problems = roundtrip()
        for problem in problems:
            print(f"  ERROR: {problem}")
        return 1 if problems else 0
    # mode == "lint": the linter's own log says each sqlmigrate call; the findings suffice.
    logging.getLogger("django_migration_linter").setLevel(logging.WARNING)
    failing, notes = judge(
        [tuple(k.split(".", 1)) for k in keys],
        [tuple(k.split(".", 1)) for k in edited],
        read_allowed(),
    )
    for note in notes:
        print(f"  {note}")
    for finding in failing:
        print(f"  {finding}")
    return 1 if failing else 0


def run_child(mode: str, database_url: str, *extra: str) -> int:
    env = {**os.environ, "DATABASE_URL": database_url, "BOOKDESK_ENV": "development"}
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.run(
        [sys.executable, __file__, f"--child={mode}", *extra], env=env, check=False
    ).returncode


# --- scratch databases ----------------------------------------------------------------------


def with_database_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


# --- the stage --------------------------------------------------------------------------------


def step(title: str):
    print(f"\n-- {title}", flush=True)
    return time.monotonic()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", required=False, help="server URL (a scratch database is made)"
    )
    parser.add_argument("--scratch-name", default="bookdesk_migrations")
    parser.add_argument("--base", default="main", help="the target branch (or commit)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--keys", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--edited", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child, args.keys, args.edited)

    failed = []
    bookdesk = [sys.executable, "-m", "bookdesk"]

    step("models and migrations agree (makemigrations --check)")
    env = {**os.environ, "BOOKDESK_ENV": "development"}
    if subprocess.run([*bookdesk, "makemigrations", "--check", "--dry-run"], env=env).returncode:
        failed.append("makemigrations --check: the models have changes no migration holds")

    step(f"new since {args.base}")
    added, edited = changed_migration_files(args.base)
    keys = [".".join(migration_key(p)) for p in added]
    edited_keys = [".".join(migration_key(p)) for p in edited]
    print(f"  added: {', '.join(keys) or 'none'}")
    print(f"  edited: {', '.join(edited_keys) or 'none'}")

    with tempfile.TemporaryDirectory(prefix="bookdesk-migrations-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/empty.sqlite3"
        step("SQLite: migrate an empty database; reverse each app's newest migration")
        if run_child("roundtrip", sqlite_url):
            failed.append("SQLite: migrate or reverse failed (above)")

    if args.postgres:
        pg_url = with_database_name(args.postgres, args.scratch_name)
        recreate_postgres(pg_url)
        try:
            step("PostgreSQL: migrate an empty database; reverse each app's newest migration")
            if run_child("roundtrip", pg_url):
                failed.append("PostgreSQL: migrate or reverse failed (above)")
            step(f"backward compatibility of what is new since {args.base} (PostgreSQL SQL)")
            if not keys and not edited_keys:
                print("  no migration added or edited: nothing to judge")
            elif run_child("lint", pg_url, "--keys", *keys, "--edited", *edited_keys):
                failed.append(
                    "backward-incompatible migration (above): the running release would break"
                )
        finally:
            drop_postgres(pg_url)
    else:
        failed.append("no PostgreSQL URL given (--postgres): the compatibility check needs one")

    print()
    if failed:
        for reason in failed:
            print(f"migrations: FAILED: {reason}")
        return 1
    print("migrations: passed")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(SRC))
    raise SystemExit(main())
