"""Named migrations (issue 13, item 3): every path into today's schema ends with the same tables.

A file is migrated from blank, from the first schema only, and from the `PRAGMA user_version` files
in the wild (8, 10 and 11 migrations run by a build from before names); all end with the same schema,
and the `_migrations` record lists every step. Each step runs in its own transaction with its record,
so a failing one leaves the file at the step before; nothing runs twice.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from playground import store as store_module
from playground.errors import LogError
from playground.store import MIGRATIONS, Migration, Store
from tests.test_db_faults import held_lock

# The names shipped for the steps that `PRAGMA user_version` counted: a file at user_version N is given
# the first N of them, so they never change name or place.
SHIPPED = [
    "create_tables",
    "tool_calls",
    "partial_replies",
    "files",
    "message_search",
    "test_sets",
    "unsent_and_run_problems",
    "case_sources_and_result_costs",
    "thread_api",
    "dropped_turns",
    "thread_kind_and_placed",
]


def old_build(path: Path, count: int) -> None:
    """The file a build from before named migrations left: its first `count` scripts, user_version."""
    raw = sqlite3.connect(path, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:count], start=1):
        raw.executescript(f"BEGIN; {migration.sql}; PRAGMA user_version = {number}; COMMIT;")
    raw.close()


def schema(path: Path) -> dict[str, Any]:
    """Everything the schema is made of: every table's columns and indexes, and each entry of
    sqlite_master as written (tables, indexes, triggers, the FTS table and its shadow tables)."""
    conn = sqlite3.connect(path)
    try:
        master = sorted(conn.execute("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master"))
        tables = [name for kind, name, _, _ in master if kind == "table"]
        return {
            "master": master,
            "columns": {t: conn.execute(f'PRAGMA table_info("{t}")').fetchall() for t in tables},
            "indexes": {t: conn.execute(f'PRAGMA index_list("{t}")').fetchall() for t in tables},
            "foreign_keys": {t: conn.execute(f'PRAGMA foreign_key_list("{t}")').fetchall() for t in tables},
        }
    finally:
        conn.close()


def record(path: Path) -> list[tuple[str, float | None]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def digest(path: Path) -> str:
    parts = [p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
    return hashlib.sha256(b"".join(parts)).hexdigest()


def restarted(path: Path) -> None:
    """The next Store on this file opens it as a new process would (running what is due at open)."""
    store_module._migrated.discard(str(path.resolve()))


@pytest.fixture
def latest(tmp_path: Path) -> dict[str, Any]:
    """The schema a blank file migrates to: what every other path must end with."""
    return schema(Store(tmp_path / "blank.db").path)


def test_names_are_unique_say_what_they_do_and_keep_their_place() -> None:
    names = [m.name for m in MIGRATIONS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert names[: len(SHIPPED)] == SHIPPED
    with pytest.raises(ValueError, match="lower_snake_case"):
        Migration("drop table x; --", "SELECT 1")


def test_a_blank_file_runs_every_migration_in_order_and_records_each(tmp_path: Path) -> None:
    store = Store(tmp_path / "log.db")
    assert store.applied_migrations() == [m.name for m in MIGRATIONS]
    assert store.pending_migrations() == []
    rows = record(store.path)
    assert [name for name, _ in rows] == [m.name for m in MIGRATIONS]
    times = [at for _, at in rows]
    assert all(at is not None for at in times) and times == sorted(times)
    # Kept at the count, so a build from before the record sees nothing left to run.
    assert user_version(store.path) == len(MIGRATIONS)
    assert {"assistants", "messages_fts", "tool_calls", "replay_results", "_migrations"} <= {
        r[1] for r in schema(store.path)["master"] if r[0] == "table"
    }


@pytest.mark.parametrize("count", [1, 8, 10, 11])
def test_a_file_from_before_names_is_recorded_then_brought_up_to_date(
    tmp_path: Path, latest: dict[str, Any], count: int
) -> None:
    path = tmp_path / "log.db"
    old_build(path, count)
    store = Store(path)
    assert schema(path) == latest
    rows = record(path)
    assert [name for name, _ in rows] == [m.name for m in MIGRATIONS]
    # The steps the old build ran are recorded, not run again (when they ran is not known) ...
    assert all(at is None for _, at in rows[:count])
    # ... and the rest ran here.
    assert all(at is not None for _, at in rows[count:])
    assert user_version(path) == len(MIGRATIONS)
    assert store.pending_migrations() == []


def test_rows_written_at_the_first_schema_survive_every_step(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    old_build(path, 1)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("INSERT INTO assistants (id, owner, name, created_at, updated_at) VALUES (1, 'local', 'A', 0, 0)")
        raw.execute("INSERT INTO threads (id, assistant_id, title, created_at, updated_at) VALUES (1, 1, 't', 0, 0)")
        raw.execute(
            "INSERT INTO messages (thread_id, role, content, status, created_at) "
            "VALUES (1, 'user', 'quarterly invoices', 'complete', 0)"
        )
    raw.close()
    store = Store(path)
    [thread] = store.list_threads(1)
    assert (thread.title, thread.kind, thread.api) == ("t", "chat", None)
    [message] = store.list_messages(1)
    assert (message.content, message.placed) == ("quarterly invoices", False)
    with store.db() as db:  # the search index was built over the rows already there
        found = db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'invoices'").fetchall()
    assert found == [(message.id,)]


def test_opening_again_runs_nothing_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.db"
    old_build(path, 8)
    Store(path)
    before = (record(path), schema(path), user_version(path))
    ran: list[str] = []
    real = Store._run_migration

    def counted(conn: sqlite3.Connection, migration: Migration, position: int) -> None:
        ran.append(migration.name)
        real(conn, migration, position)

    monkeypatch.setattr(Store, "_run_migration", staticmethod(counted))
    restarted(path)
    Store(path)
    restarted(path)
    Store(path)
    assert ran == []
    assert (record(path), schema(path), user_version(path)) == before


def test_a_step_another_process_ran_first_is_skipped_not_run_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes opening one old file at once: both see the same steps pending, one takes the
    write lock and runs them; the other, once it has the lock, finds each name recorded and moves on."""
    path = tmp_path / "log.db"
    Store(path)
    before = (record(path), schema(path), user_version(path))
    monkeypatch.setattr(Store, "pending_migrations", lambda self: [m.name for m in MIGRATIONS])  # seen stale
    restarted(path)
    Store(path)
    assert (record(path), schema(path), user_version(path)) == before


def test_a_failing_migration_leaves_the_file_at_the_step_before(
    tmp_path: Path, latest: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "log.db"
    old_build(path, 8)
    broken = Migration("broken", "CREATE TABLE half_done (x INTEGER); ALTER TABLE no_such_table ADD COLUMN y TEXT;")
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS[:9], broken, *MIGRATIONS[10:]])
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        Store(path)
    # The step before it landed whole; of the broken one nothing did, not even its first statement.
    assert [name for name, _ in record(path)] == [m.name for m in MIGRATIONS[:9]]
    assert user_version(path) == 9
    tables = {r[1] for r in schema(path)["master"]}
    assert "half_done" not in tables
    assert "api" in {c[1] for c in schema(path)["columns"]["threads"]}
    # Fixed, the next open carries on from there.
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    store = Store(path)
    assert store.applied_migrations() == [m.name for m in MIGRATIONS]
    assert schema(path) == latest


def test_a_read_only_file_with_migrations_pending_names_them_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    old_build(path, 8)
    before = digest(path)
    with pytest.raises(LogError) as caught:
        Store(path, read_only=True)
    problem = caught.value.problem
    assert problem.kind == "db_read_only"
    assert str(path) in problem.message and "read-only" in problem.message
    assert f"pending migrations {MIGRATIONS[8].name}, {MIGRATIONS[9].name}" in problem.message
    if len(MIGRATIONS) > 11:
        assert f"and {len(MIGRATIONS) - 11} more" in problem.message
    assert problem.message.count(": ") + problem.message.count(". ") <= 2
    assert digest(path) == before  # no record made either


def test_a_locked_file_with_migrations_pending_says_so_then_upgrades_once_free(
    tmp_path: Path, latest: dict[str, Any]
) -> None:
    path = tmp_path / "log.db"
    old_build(path, 10)
    with held_lock(path), pytest.raises(LogError) as caught:
        Store(path, busy_timeout=0.1)
    problem = caught.value.problem
    assert problem.kind == "db_locked" and "locked by another program" in problem.message
    assert MIGRATIONS[10].name in problem.message
    assert user_version(path) == 10
    Store(path, busy_timeout=0.1)
    assert schema(path) == latest


def test_an_up_to_date_file_from_before_names_opens_for_reading_when_it_cannot_be_written(tmp_path: Path) -> None:
    """Recording the names is a write; a read-only file that needs nothing else opens without it."""
    path = tmp_path / "log.db"
    old_build(path, len(MIGRATIONS))
    before = digest(path)
    reader = Store(path, read_only=True)
    assert reader.problem is not None and reader.problem.kind == "db_read_only"
    assert reader.applied_migrations() == [m.name for m in MIGRATIONS]
    assert reader.pending_migrations() == []
    assert reader.list_assistants() == []
    assert digest(path) == before
    restarted(path)
    Store(path)
    assert [at for _, at in record(path)] == [None] * len(MIGRATIONS)


def test_a_build_from_before_names_finds_nothing_to_run_in_a_newer_file(tmp_path: Path) -> None:
    """What such a build did at open: run MIGRATIONS[user_version:]. A file migrated now must give it
    nothing (rerunning create_tables would fail with a traceback), whatever steps were added since."""
    store = Store(tmp_path / "log.db")
    old_count = len(SHIPPED)
    assert user_version(store.path) >= old_count
    assert MIGRATIONS[:old_count][user_version(store.path) :] == []


def test_a_switch_to_wal_refused_at_once_is_tried_again_within_the_busy_timeout(tmp_path: Path) -> None:
    """Processes opening a new file together: SQLite may refuse one's switch to WAL without waiting
    (seen about once in sixteen three-process starts), which used to stop that process's page."""

    class Refusing:
        def __init__(self, refusals: int) -> None:
            self.refusals = refusals

        def execute(self, sql: str) -> sqlite3.Cursor:
            if self.refusals:
                self.refusals -= 1
                busy = sqlite3.OperationalError("database is locked")
                busy.sqlite_errorcode = 5
                raise busy
            return sqlite3.connect(":memory:").execute("SELECT 'wal'")

    store = Store(tmp_path / "log.db", busy_timeout=1)
    store._use_wal(Refusing(3))  # type: ignore[arg-type]
    store._wait = 0
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store._use_wal(Refusing(1))  # type: ignore[arg-type]
