"""The engine layer: how the log reaches its database, through SQLAlchemy Core.

One `Engine` per log file (and mode: read-write, or read-only) per process, made on first use and
kept in this module: it holds no secret and no user's data, only a pool of connections to one file.
An operation borrows a connection for its length (`connect`) and gives it back; the pool keeps a few
open, so an operation no longer pays for opening SQLite and setting it up (see docs/performance.md).

Why the pool is safe where a shared handle was not:
- A connection serves one operation on one thread at a time: the pool lends it out whole and takes it
  back at the operation's end, rolled back if anything was left open. Streamlit's session threads, the
  turn worker's threads and the lease keeper each borrow their own.
- SQLite does not see a file replaced or removed under an open handle (it keeps writing to the old
  one). Each loan compares the file's identity with the one the connection opened, and a stale
  connection is dropped and a fresh one opened, as opening per operation did.
- A file made read-only after a connection opened is caught by `Store` (it reopens it read-only).

Transactions are ours, not the driver's: pysqlite's own handling begins them late and cannot take the
write lock up front, so the driver runs in autocommit and each transaction says BEGIN itself: a write
says BEGIN IMMEDIATE (the write lock at once, so two sessions never deadlock upgrading a read lock), a
read says BEGIN (one snapshot for all its statements).

SQL is written with named parameters (`:name`, a list or tuple becomes an IN list), which SQLAlchemy
turns into each driver's own style: what a second engine (Postgres) needs. What is SQLite's own
(PRAGMAs, FTS5, `julianday`, migrations' scripts) stays in `store.py`, marked there.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.pool import ConnectionPoolEntry

# Connections kept open per log per process. Beyond them more are opened as needed and closed when
# given back (SQLite has no server to run out of connections), so a burst never waits for the pool.
POOL_SIZE = 8


class Db:
    """One borrowed connection, for one operation: the statements of the log, by column name."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        """Run one statement with named parameters; a list or tuple value is an IN list (`IN :ids`)."""
        statement = sa.text(sql)
        params = dict(params or {})
        expanding: list[sa.BindParameter[Any]] = [
            sa.bindparam(name, expanding=True) for name, v in params.items() if isinstance(v, list | tuple)
        ]
        if expanding:
            statement = statement.bindparams(*expanding)
        return self.conn.execute(statement, params)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row a query gives, each a dict by column name."""
        result = self.execute(sql, params)
        keys = tuple(result.keys())
        # The driver's own tuples, zipped with the column names: a third of the time of SQLAlchemy's
        # Row and RowMapping per row (reading a 1,000-message thread). Any DBAPI cursor gives tuples.
        with result:
            return [dict(zip(keys, row, strict=True)) for row in result.cursor.fetchall()]

    def value(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        return self.execute(sql, params).scalar()

    def insert(self, table: str, row: Mapping[str, Any]) -> int:
        """Insert one row given by column name; returns the id the database gave it. Table and column
        names come from the log's code, never from input."""
        statement = sa.insert(sa.table(table, *(sa.column(name) for name in row))).values(dict(row))
        rowid = self.conn.execute(statement).lastrowid
        assert rowid is not None, "an INSERT gave no row id"
        return int(rowid)

    def many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Run one statement once per parameter set (executemany)."""
        if rows:
            self.conn.execute(sa.text(sql), rows)


_engines: dict[tuple[str, bool, float | None], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(path: Path, *, read_only: bool = False, max_mb: float | None = None) -> Engine:
    """The engine of the log at `path` in this process, made on first use."""
    key = (str(path.resolve()), read_only, max_mb)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _make_engine(path, read_only=read_only, max_mb=max_mb)
        return engine


def _make_engine(path: Path, *, read_only: bool, max_mb: float | None) -> Engine:
    resolved = path.resolve()
    # mode=ro opens for reading only, even a file this process could write (PLAYGROUND_DB_READ_ONLY).
    target = f"{resolved.as_uri()}?mode=ro" if read_only else str(resolved)
    engine = sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(target, uri=read_only, check_same_thread=False, isolation_level=None),
        poolclass=sa.pool.QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=-1,
    )

    @event.listens_for(engine, "connect")
    def _set_up(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        record.info["file"] = _identity(resolved)
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        if max_mb is not None:
            size = dbapi_conn.execute("PRAGMA page_size").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count = {max(1, int(max_mb * 2**20 / size))}")
        dbapi_conn.create_function("folded", 1, folded, deterministic=True)

    @event.listens_for(engine, "checkout")
    def _still_that_file(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry, proxy: Any) -> None:
        if record.info.get("file") != _identity(resolved):
            raise sa.exc.DisconnectionError("the log's file was replaced or removed")  # the pool opens anew

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


@contextmanager
def connect(engine: Engine, *, write: bool, busy_timeout: float) -> Iterator[Db]:
    """A connection for one operation, in one transaction: committed at the end of a write (all of it
    lands or none), rolled back at the end of a read. Errors come out as SQLAlchemy wraps them (the
    driver's exception in `.orig`)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        _wait(raw, conn.connection.info, busy_timeout)
        if write:
            conn.execution_options(write=True)
        with conn.begin():
            yield Db(conn)


@contextmanager
def raw_connection(engine: Engine, *, busy_timeout: float) -> Iterator[sqlite3.Connection]:
    """The driver's own connection, borrowed from the pool, for what is SQLite's alone (migration
    scripts, the switch to WAL): no transaction is begun for it; it says its own."""
    proxied = engine.raw_connection()
    try:
        raw = proxied.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        _wait(raw, proxied.info, busy_timeout)
        yield raw
    finally:
        proxied.close()


def _wait(raw: sqlite3.Connection, info: dict[Any, Any], busy_timeout: float) -> None:
    """Set how long this connection waits for a lock, when it differs from what it was set to last."""
    busy_ms = int(busy_timeout * 1000)
    if info.get("busy_ms") != busy_ms:
        raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
        info["busy_ms"] = busy_ms


def driver_error(exc: BaseException) -> BaseException:
    """The driver's exception inside SQLAlchemy's wrapper (the exception itself when not wrapped)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def dispose(path: Path | None = None) -> None:
    """Close the pooled connections of the log at `path` (of every log, with None) and forget its
    engines: a test's file is gone, or a process hands the file to another program."""
    prefix = str(path.resolve()) if path is not None else None
    with _engines_lock:
        keys = [k for k in _engines if prefix is None or k[0] == prefix]
        engines = [_engines.pop(k) for k in keys]
    for engine in engines:
        engine.dispose()


def folded(text: str | None) -> str:
    """Text as a search compares it: case folded and accents dropped, as the full-text index does."""
    if not text or text.isascii():
        return (text or "").lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
