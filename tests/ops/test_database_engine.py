"""The database ENGINE is django-prometheus' wrapper, and Django's behaviour is intact."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext

from bookdesk.config import parse_database_url


def test_the_app_database_is_instrumented(db):
    assert connection.settings_dict["ENGINE"].startswith("django_prometheus.db.backends.")


def test_postgresql_gives_up_connecting_after_a_few_seconds(db):
    options = connection.settings_dict["OPTIONS"]
    if connection.vendor == "postgresql":
        assert options["connect_timeout"] == 5
        assert connection.get_connection_params()["connect_timeout"] == 5
    else:
        assert "connect_timeout" not in options  # SQLite's own "timeout" is the lock wait


@pytest.fixture
def sqlite_pair(tmp_path, django_db_blocker):
    """Two connections to one SQLite file, configured exactly as DATABASE_URL configures it."""
    url = f"sqlite:///{tmp_path / 'immediate.sqlite3'}"
    first = ConnectionHandler({"default": parse_database_url(url, base_dir=tmp_path)})
    config = parse_database_url(url, base_dir=tmp_path)
    config["OPTIONS"]["timeout"] = 0.2  # the second writer gives up on the lock quickly
    second = ConnectionHandler({"default": config})
    # Files of our own, not the test database: pytest-django's guard does not apply.
    with django_db_blocker.unblock():
        yield first["default"], second["default"]
        first.close_all()
        second.close_all()


def begin_as_atomic_does(conn) -> None:
    # What transaction.atomic() runs on SQLite, where autocommit off means no transaction.
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def test_sqlite_still_begins_immediate_and_so_blocks_a_second_writer(sqlite_pair):
    first, second = sqlite_pair
    assert first.settings_dict["ENGINE"] == "django_prometheus.db.backends.sqlite3"
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE slot (id integer primary key)")
    with CaptureQueriesContext(first) as queries:
        begin_as_atomic_does(first)
    assert queries.captured_queries[0]["sql"] == "BEGIN IMMEDIATE"
    try:
        # The second one has not even read yet and is refused: the lock is taken at BEGIN,
        # so two bookings can never both see the slot free and both insert.
        with pytest.raises(OperationalError, match="locked"):
            begin_as_atomic_does(second)
    finally:
        first.rollback()
        first.set_autocommit(True)
