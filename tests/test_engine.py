"""The engine layer: a pool per log, a connection per operation, transactions that are ours."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from playground import engine
from playground.errors import LogError
from playground.store import Store


def _driver(db: engine.Db) -> sqlite3.Connection:
    raw = db.conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def test_operations_reuse_a_pooled_connection(store):
    with store.db() as db:
        first = _driver(db)
    with store.write() as db:
        second = _driver(db)
    assert first is second  # no new connection (and no WAL checkpoint at its close) per operation


def test_sessions_at_the_same_moment_never_share_a_connection(tmp_path):
    # Streamlit runs each session on its own thread: each holds its own connection while it works.
    path = tmp_path / "log.db"
    Store(path)
    sessions = 12  # more than the pool keeps, so overflow connections are lent too
    inside = threading.Barrier(sessions, timeout=10)
    held: list[int] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def session(i: int) -> None:
        try:
            store = Store(path, owner=f"o{i}")
            with store.db() as db:
                with lock:
                    held.append(id(_driver(db)))
                inside.wait()  # every session holds its connection at once
            store.create_assistant()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(set(held)) == sessions
    assert len(Store(path).dump()["assistants"]) == sessions


def test_a_read_sees_one_snapshot_while_another_session_writes(store):
    a = store.create_assistant()
    other = Store(store.path)
    with store.db() as db:
        before = db.value("SELECT COUNT(*) FROM assistants")
        other.create_assistant()  # commits while the read is open
        assert db.value("SELECT COUNT(*) FROM assistants") == before
    assert len(store.list_assistants()) == 2
    assert a.id


def test_a_write_that_fails_midway_leaves_nothing(store):
    a = store.create_assistant()
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("UPDATE assistants SET name = 'changed' WHERE id = :id", {"id": a.id})
        raise RuntimeError("boom")
    assert store.get_assistant(a.id).name == a.name
    with store.write() as db:  # the connection went back to the pool clean: a new transaction begins
        db.execute("UPDATE assistants SET name = 'changed' WHERE id = :id", {"id": a.id})
    assert store.get_assistant(a.id).name == "changed"


def test_a_write_holds_the_write_lock_from_its_start(store):
    # BEGIN IMMEDIATE: another writer is refused at once (busy timeout 0), before either wrote a row.
    impatient = Store(store.path, busy_timeout=0)
    with store.write(), pytest.raises(LogError) as refused:
        impatient.create_assistant()
    assert refused.value.problem.kind == "db_locked"
    assert impatient.create_assistant().id  # and goes through once the lock is free


def test_a_replaced_file_is_opened_anew_not_written_through_a_stale_handle(tmp_path):
    path = tmp_path / "x.db"
    log = engine.engine_for(path)
    with engine.connect(log, write=True, busy_timeout=1) as db:
        db.execute("CREATE TABLE old (id INTEGER PRIMARY KEY)")
    path.unlink()
    fresh = sqlite3.connect(path)
    fresh.execute("CREATE TABLE new (id INTEGER PRIMARY KEY)")
    fresh.commit()
    fresh.close()
    with engine.connect(log, write=True, busy_timeout=1) as db:
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").scalars().all()
        db.insert("new", {"id": 7})
    assert names == ["new"]
    check = sqlite3.connect(path)
    assert check.execute("SELECT id FROM new").fetchall() == [(7,)]
    check.close()


def test_named_parameters_and_in_lists(tmp_path):
    log = engine.engine_for(tmp_path / "x.db")
    with engine.connect(log, write=True, busy_timeout=1) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        ids = [db.insert("t", {"name": name}) for name in ("a", "b", "c")]
        db.many("UPDATE t SET name = upper(name) || :mark WHERE id = :id", [{"mark": "!", "id": ids[0]}])
    with engine.connect(log, write=False, busy_timeout=1) as db:
        assert db.rows("SELECT name FROM t WHERE id IN :ids ORDER BY id", {"ids": ids[:2]}) == [
            {"name": "A!"},
            {"name": "b"},
        ]
        assert db.rows("SELECT name FROM t WHERE id IN :ids", {"ids": []}) == []
        assert db.value("SELECT name FROM t WHERE id = :id", {"id": 999}) is None
        assert db.value("SELECT folded(:text)", {"text": "Crème BRÛLÉE"}) == "creme brulee"


def test_a_read_only_log_is_reached_through_its_own_engine(store):
    store.create_assistant()
    reader = Store(store.path, read_only=True)
    assert len(reader.list_assistants()) == 1
    with pytest.raises(LogError) as refused:
        reader.create_assistant()
    assert refused.value.problem.kind == "db_read_only"


def test_dispose_closes_a_logs_pool(store):
    with store.db() as db:
        first = _driver(db)
    engine.dispose(store.path)
    with store.db() as db:
        assert _driver(db) is not first
