"""CSV straight from PostgreSQL's COPY, for exports too big for Python to format quickly.

The Python writer (writers.csv_chunks) formats about 80,000 rows/s on our test machine,
where ``psql \\copy`` of the same rows does 440,000: Python's per-field work is the cost.
Here PostgreSQL formats every value (the same rules, as SQL) and we only pass its output
through in 64 kB chunks, so memory stays flat and the speed is close to psql's. The output
is byte-for-byte the Python writer's (tests/exports/test_pgcopy.py checks this), and the
rows are the same queryset's, so scope and filters are applied once, by Django.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.db.models import F, Func, QuerySet, TextField

from bookdesk.exports import writers
from bookdesk.exports.rows import COLUMNS, SOURCES
from bookdesk.exports.selectors import export_rows
from bookdesk.exports.writers import DANGEROUS_PREFIXES, HEADER, ProgressFn

_DANGER_SQL = ", ".join(
    "'" + p + "'" if p.isprintable() else f"chr({ord(p)})" for p in DANGEROUS_PREFIXES
)


class _Neutralised(Func):
    """Text with a leading apostrophe when it could start a formula; '' becomes NULL."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if params:
            raise ValueError("a plain column is expected")
        return (
            f"CASE WHEN left({sql}, 1) IN ({_DANGER_SQL}) THEN chr(39) || {sql} "
            f"ELSE NULLIF({sql}, '') END",
            [],
        )


def _iso_seconds(local_sql: str) -> str:
    return f"to_char({local_sql}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"


class _LocalIso(Func):
    """ISO 8601 with the UTC offset of the given zone at that instant (like isoformat())."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        moment, moment_params = compiler.compile(self.source_expressions[0])
        zone, zone_params = compiler.compile(self.source_expressions[1])
        if moment_params or zone_params:
            raise ValueError("plain columns are expected")
        local = f"({moment} AT TIME ZONE {zone})"
        seconds = f"extract(epoch FROM ({local} - ({moment} AT TIME ZONE 'UTC')))::int"
        sign = f"CASE WHEN {seconds} < 0 THEN '-' ELSE '+' END"
        hours = f"to_char(abs({seconds}) / 3600, 'FM00')"
        minutes = f"to_char(mod(abs({seconds}), 3600) / 60, 'FM00')"
        return f"{_iso_seconds(local)} || {sign} || {hours} || ':' || {minutes}", []


class _UtcIso(Func):
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        moment, params = compiler.compile(self.source_expressions[0])
        if params:
            raise ValueError("a plain column is expected")
        return f"{_iso_seconds(f'({moment} AT TIME ZONE {chr(39)}UTC{chr(39)})')} || '+00:00'", []


# How PostgreSQL formats each CSV column as writers.csv_chunks does (see COLUMNS).
_TEXT = ("resource", "location", "requester", "title", "purpose", "decided_by", "decision_reason")
_LOCAL = ("start", "end")
_UTC = ("created_at", "decided_at")


def _column(name: str):
    source = getattr(SOURCES, name)
    if name in _TEXT:
        return _Neutralised(F(source))
    if name in _LOCAL:
        return _LocalIso(F(source), F(SOURCES.timezone))
    if name in _UTC:
        return _UtcIso(F(source))
    return source


def _formatted(qs: QuerySet) -> QuerySet:
    return qs.values_list(*(_column(name) for name in COLUMNS))


def copy_csv_chunks(
    qs: QuerySet, *, chunk_bytes: int = 64 * 1024, progress: ProgressFn | None = None
) -> Iterator[bytes]:
    """The CSV of ``qs`` (bookings, ordered) as PostgreSQL writes it, in ~64 kB chunks."""
    sql, params = _formatted(qs).query.sql_with_params()
    header = ",".join(HEADER) + "\r\n"
    yield header.encode("utf-8")
    connection.ensure_connection()
    raw = connection.connection
    finished = False
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy,
        ):
            buffer = bytearray()
            rows = 0
            for data in copy:  # one row per message, ending in LF
                # CRLF line ends (RFC 4180) like the Python writer; LFs inside quoted
                # fields are data and stay as they are.
                buffer += data[:-1]
                buffer += b"\r\n"
                rows += 1
                if len(buffer) >= chunk_bytes:
                    yield bytes(buffer)
                    buffer.clear()
                    if progress is not None:
                        progress(rows)
            if buffer:
                yield bytes(buffer)
            if progress is not None:
                progress(rows)
        finished = True
    finally:
        if not finished:
            # The client went away mid-COPY: the connection is mid-protocol, so drop it
            # rather than hand it to the next request.
            connection.close()


def csv_stream(queryset, progress=None):
    """CSV bytes of ``queryset``: formatted by PostgreSQL's COPY there, by Python elsewhere."""
    if connection.vendor == "postgresql":
        return copy_csv_chunks(queryset, progress=progress)
    return writers.csv_chunks(export_rows(queryset), progress=progress)
