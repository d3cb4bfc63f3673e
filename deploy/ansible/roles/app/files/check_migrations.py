"""Refuse migrations that would break the release still serving (blue/green deploys).

Run by the deploy with the new release's Python, before anything is migrated:

    bookdesk-manage --release <new> --program python check_migrations.py [--allow app.name ...]

During a blue/green deploy the old release keeps serving on the new schema until the switch,
and after a rollback for as long as it runs. So the migrations not yet applied to this
database (exactly those the new release brings) may only expand the schema: add tables,
nullable columns, columns with a database default, indexes. Dropping or renaming a column
or table, or adding a NOT NULL column without a default, must wait for a later release
(expand/contract, docs/deploy.md). django-migration-linter analyses each pending
migration's SQL; --allow lets named migrations through (the contract step, once no
running release needs what it removes).
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--allow", action="append", default=[], metavar="APP.MIGRATION")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bookdesk.settings")
    import django

    django.setup()
    from django_migration_linter import MigrationLinter

    allowed = [name.split(".", 1) for name in args.allow if "." in name]
    linter = MigrationLinter(
        only_unapplied_migrations=True,
        no_cache=True,
        ignore_name=[name for _, name in allowed],
    )
    linter.lint_all_migrations()
    if linter.nb_total == 0:
        print("check_migrations: no pending migrations")
    if linter.has_errors:
        print(
            "check_migrations: a pending migration is not backward compatible with the "
            "release that is serving; see docs/deploy.md (expand/contract)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
