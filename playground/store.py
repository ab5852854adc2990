"""The SQLite log: assistants, their versions and drafts, threads, messages and runs.

Every operation opens its own connection. Streamlit runs each rerun and each session on its own
thread, and a shared sqlite3 handle fails across threads; opening SQLite costs microseconds.
WAL lets readers carry on while one session writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from playground.assistant import AssistantConfig

LOCAL_OWNER = "local"

# Each entry moves the schema one step; PRAGMA user_version records how far a file has come.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE assistants (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        archived_at REAL
    );
    CREATE INDEX assistants_owner ON assistants(owner, updated_at);
    CREATE TABLE assistant_versions (
        id INTEGER PRIMARY KEY,
        assistant_id INTEGER NOT NULL REFERENCES assistants(id),
        number INTEGER NOT NULL,
        config TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        UNIQUE (assistant_id, number)
    );
    CREATE TABLE drafts (
        assistant_id INTEGER PRIMARY KEY REFERENCES assistants(id),
        config TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE threads (
        id INTEGER PRIMARY KEY,
        assistant_id INTEGER NOT NULL REFERENCES assistants(id),
        conversation_id TEXT,
        title TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX threads_assistant ON threads(assistant_id, updated_at);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        version_id INTEGER REFERENCES assistant_versions(id),
        user_message_id INTEGER,
        model TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        total_tokens INTEGER,
        ttft_ms REAL,
        latency_ms REAL,
        request_id TEXT,
        response_id TEXT,
        last_item_id TEXT,
        error TEXT,
        request TEXT,
        response TEXT,
        created_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX runs_thread ON runs(thread_id);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        version_id INTEGER REFERENCES assistant_versions(id),
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_thread ON messages(thread_id, id);
    """,
]

MESSAGE_STATUSES = ("complete", "incomplete", "failed")
RUN_STATUSES = ("in_progress", "completed", "incomplete", "failed", "cancelled")

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


@dataclass
class Assistant:
    id: int
    name: str
    created_at: float
    updated_at: float
    archived_at: float | None = None


@dataclass
class Version:
    id: int
    assistant_id: int
    number: int
    config: AssistantConfig
    note: str
    created_at: float


@dataclass
class Thread:
    id: int
    assistant_id: int
    conversation_id: str | None
    title: str
    created_at: float
    updated_at: float


@dataclass
class Message:
    id: int
    thread_id: int
    role: str
    content: str
    version_id: int | None
    run_id: int | None
    status: str
    created_at: float
    version_number: int | None = None
    model: str | None = None
    error: str | None = None
    run_status: str | None = None


@dataclass
class Run:
    id: int
    thread_id: int
    version_id: int | None
    user_message_id: int | None
    model: str
    status: str
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    ttft_ms: float | None
    latency_ms: float | None
    request_id: str | None
    response_id: str | None
    last_item_id: str | None
    error: str | None
    request: str | None
    response: str | None
    created_at: float
    finished_at: float | None


class Store:
    """The log for one owner. Holds a path, never a connection, so it is safe to build per rerun."""

    def __init__(self, path: str | Path, owner: str = LOCAL_OWNER) -> None:
        self.path = Path(path)
        self.owner = owner
        self._migrate()

    # -- connections --------------------------------------------------------------------------

    @contextmanager
    def db(self) -> Iterator[sqlite_utils.Database]:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        try:
            yield sqlite_utils.Database(conn)
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction: all of it lands, or none of it."""
        with self.db() as db:
            # IMMEDIATE takes the write lock up front, so two sessions never deadlock on upgrade.
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.rollback()
                raise
            db.conn.commit()

    def _migrate(self) -> None:
        key = str(self.path.resolve())
        if key in _migrated:
            return
        with _migrate_lock:
            if key in _migrated:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.db() as db:
                db.conn.execute("PRAGMA journal_mode = WAL")
                current = db.conn.execute("PRAGMA user_version").fetchone()[0]
                for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    db.conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
            _migrated.add(key)

    def schema_version(self) -> int:
        with self.db() as db:
            return db.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- assistants ---------------------------------------------------------------------------

    def create_assistant(self, config: AssistantConfig | None = None) -> Assistant:
        """A new assistant with a draft and no version yet (the user has not pressed Create)."""
        config = config or AssistantConfig()
        now = time.time()
        with self.write() as db:
            cur = db.conn.execute(
                "INSERT INTO assistants (owner, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (self.owner, config.name, now, now),
            )
            assistant_id = cur.lastrowid
            db.conn.execute(
                "INSERT INTO drafts (assistant_id, config, updated_at) VALUES (?, ?, ?)",
                (assistant_id, config.to_json(), now),
            )
        return Assistant(assistant_id, config.name, now, now)

    def get_assistant(self, assistant_id: int) -> Assistant | None:
        with self.db() as db:
            row = db.conn.execute(
                "SELECT id, name, created_at, updated_at, archived_at FROM assistants WHERE id = ? AND owner = ?",
                (assistant_id, self.owner),
            ).fetchone()
        return Assistant(*row) if row else None

    def list_assistants(self, include_archived: bool = False) -> list[dict[str, Any]]:
        """Assistants with their model, version count, thread count and last use, newest first."""
        sql = """
            SELECT a.id, a.name, a.created_at, a.updated_at, a.archived_at,
                   (SELECT COUNT(*) FROM assistant_versions v WHERE v.assistant_id = a.id) AS versions,
                   (SELECT COUNT(*) FROM threads t WHERE t.assistant_id = a.id) AS threads,
                   (SELECT MAX(t.updated_at) FROM threads t WHERE t.assistant_id = a.id) AS last_used,
                   (SELECT json_extract(d.config, '$.model') FROM drafts d
                     WHERE d.assistant_id = a.id) AS model
            FROM assistants a WHERE a.owner = ? {archived}
            ORDER BY COALESCE(last_used, a.updated_at) DESC, a.id DESC
        """.format(archived="" if include_archived else "AND a.archived_at IS NULL")
        with self.db() as db:
            return [dict(r) for r in db.query(sql, [self.owner])]

    def archive_assistant(self, assistant_id: int) -> None:
        self._owned(assistant_id)
        with self.write() as db:
            db.conn.execute("UPDATE assistants SET archived_at = ? WHERE id = ?", (time.time(), assistant_id))

    def _owned(self, assistant_id: int) -> None:
        if self.get_assistant(assistant_id) is None:
            raise LookupError(f"No assistant {assistant_id} for this owner.")

    # -- drafts and versions ------------------------------------------------------------------

    def save_draft(self, assistant_id: int, config: AssistantConfig) -> float:
        """Keep the edit as it is, valid or not, so a refresh or crash loses nothing."""
        self._owned(assistant_id)
        now = time.time()
        with self.write() as db:
            db.conn.execute(
                "INSERT INTO drafts (assistant_id, config, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(assistant_id) DO UPDATE SET config = excluded.config, "
                "updated_at = excluded.updated_at",
                (assistant_id, config.to_json(), now),
            )
            db.conn.execute(
                "UPDATE assistants SET name = ?, updated_at = ? WHERE id = ?", (config.name, now, assistant_id)
            )
        return now

    def get_draft(self, assistant_id: int) -> tuple[AssistantConfig, float] | None:
        self._owned(assistant_id)
        with self.db() as db:
            row = db.conn.execute(
                "SELECT config, updated_at FROM drafts WHERE assistant_id = ?", (assistant_id,)
            ).fetchone()
        return (AssistantConfig.from_json(row[0]), row[1]) if row else None

    def latest_version(self, assistant_id: int) -> Version | None:
        versions = self.list_versions(assistant_id, limit=1)
        return versions[0] if versions else None

    def list_versions(self, assistant_id: int, limit: int | None = None) -> list[Version]:
        self._owned(assistant_id)
        sql = (
            "SELECT id, assistant_id, number, config, note, created_at FROM assistant_versions "
            "WHERE assistant_id = ? ORDER BY number DESC"
        )
        params: list[Any] = [assistant_id]
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        with self.db() as db:
            rows = db.conn.execute(sql, params).fetchall()
        return [Version(r[0], r[1], r[2], AssistantConfig.from_json(r[3]), r[4], r[5]) for r in rows]

    def get_version(self, version_id: int) -> Version | None:
        with self.db() as db:
            row = db.conn.execute(
                "SELECT v.id, v.assistant_id, v.number, v.config, v.note, v.created_at "
                "FROM assistant_versions v JOIN assistants a ON a.id = v.assistant_id "
                "WHERE v.id = ? AND a.owner = ?",
                (version_id, self.owner),
            ).fetchone()
        return Version(row[0], row[1], row[2], AssistantConfig.from_json(row[3]), row[4], row[5]) if row else None

    def save_version(self, assistant_id: int, config: AssistantConfig, note: str = "") -> tuple[Version, bool]:
        """Make `config` the newest version unless it already is. Returns (version, created).

        Refuses an invalid config: a version is something a turn can run.
        """
        problems = config.validate()
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        self._owned(assistant_id)
        text = config.to_json()
        now = time.time()
        with self.write() as db:
            row = db.conn.execute(
                "SELECT id, number, config, note, created_at FROM assistant_versions "
                "WHERE assistant_id = ? ORDER BY number DESC LIMIT 1",
                (assistant_id,),
            ).fetchone()
            if row and row[2] == text:
                return Version(row[0], assistant_id, row[1], config, row[3], row[4]), False
            number = (row[1] if row else 0) + 1
            cur = db.conn.execute(
                "INSERT INTO assistant_versions (assistant_id, number, config, note, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (assistant_id, number, text, note, now),
            )
            db.conn.execute(
                "INSERT INTO drafts (assistant_id, config, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(assistant_id) DO UPDATE SET config = excluded.config",
                (assistant_id, text, now),
            )
            db.conn.execute(
                "UPDATE assistants SET name = ?, updated_at = ? WHERE id = ?", (config.name, now, assistant_id)
            )
        return Version(cur.lastrowid, assistant_id, number, config, note, now), True

    # -- threads ------------------------------------------------------------------------------

    def create_thread(self, assistant_id: int, title: str = "") -> Thread:
        self._owned(assistant_id)
        now = time.time()
        with self.write() as db:
            cur = db.conn.execute(
                "INSERT INTO threads (assistant_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (assistant_id, title, now, now),
            )
        return Thread(cur.lastrowid, assistant_id, None, title, now, now)

    def get_thread(self, thread_id: int) -> Thread | None:
        with self.db() as db:
            row = db.conn.execute(
                "SELECT t.id, t.assistant_id, t.conversation_id, t.title, t.created_at, t.updated_at "
                "FROM threads t JOIN assistants a ON a.id = t.assistant_id WHERE t.id = ? AND a.owner = ?",
                (thread_id, self.owner),
            ).fetchone()
        return Thread(*row) if row else None

    def list_threads(self, assistant_id: int, limit: int = 50) -> list[Thread]:
        self._owned(assistant_id)
        with self.db() as db:
            rows = db.conn.execute(
                "SELECT id, assistant_id, conversation_id, title, created_at, updated_at FROM threads "
                "WHERE assistant_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
                (assistant_id, limit),
            ).fetchall()
        return [Thread(*r) for r in rows]

    def set_conversation(self, thread_id: int, conversation_id: str | None) -> None:
        with self.write() as db:
            db.conn.execute(
                "UPDATE threads SET conversation_id = ?, updated_at = ? WHERE id = ?",
                (conversation_id, time.time(), thread_id),
            )

    # -- messages and runs --------------------------------------------------------------------

    def add_message(
        self,
        thread_id: int,
        role: str,
        content: str,
        *,
        version_id: int | None = None,
        run_id: int | None = None,
        status: str = "complete",
    ) -> int:
        now = time.time()
        with self.write() as db:
            cur = db.conn.execute(
                "INSERT INTO messages (thread_id, role, content, version_id, run_id, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (thread_id, role, content, version_id, run_id, status, now),
            )
            # The first user message names the thread, so the thread list reads like a history.
            db.conn.execute(
                "UPDATE threads SET updated_at = ?, title = CASE WHEN title = '' AND ? = 'user' "
                "THEN ? ELSE title END WHERE id = ?",
                (now, role, _title(content), thread_id),
            )
        return cur.lastrowid

    def set_message_status(self, message_id: int, status: str) -> None:
        with self.write() as db:
            db.conn.execute("UPDATE messages SET status = ? WHERE id = ?", (status, message_id))

    def get_message(self, message_id: int) -> Message | None:
        rows = self._messages("m.id = ?", [message_id])
        return rows[0] if rows else None

    def list_messages(self, thread_id: int, limit: int | None = None) -> list[Message]:
        """A thread's messages in order; with `limit`, only the newest that many."""
        if limit:
            return self._messages(
                "m.thread_id = ? AND m.id IN (SELECT id FROM messages WHERE thread_id = ? ORDER BY id DESC LIMIT ?)",
                [thread_id, thread_id, limit],
            )
        return self._messages("m.thread_id = ?", [thread_id])

    def count_messages(self, thread_id: int) -> int:
        with self.db() as db:
            return db.conn.execute("SELECT COUNT(*) FROM messages WHERE thread_id = ?", (thread_id,)).fetchone()[0]

    def _messages(self, where: str, params: list[Any]) -> list[Message]:
        sql = f"""
            SELECT m.id, m.thread_id, m.role, m.content, m.version_id, m.run_id, m.status, m.created_at,
                   v.number, r.model, r.error, r.status
            FROM messages m
            JOIN threads t ON t.id = m.thread_id
            JOIN assistants a ON a.id = t.assistant_id AND a.owner = ?
            LEFT JOIN assistant_versions v ON v.id = m.version_id
            LEFT JOIN runs r ON r.id = m.run_id
            WHERE {where} ORDER BY m.id
        """
        with self.db() as db:
            rows = db.conn.execute(sql, [self.owner, *params]).fetchall()
        return [Message(*r) for r in rows]

    def start_run(self, thread_id: int, version_id: int | None, user_message_id: int, model: str) -> int:
        with self.write() as db:
            cur = db.conn.execute(
                "INSERT INTO runs (thread_id, version_id, user_message_id, model, status, created_at) "
                "VALUES (?, ?, ?, ?, 'in_progress', ?)",
                (thread_id, version_id, user_message_id, model, time.time()),
            )
        return cur.lastrowid

    def update_run(self, run_id: int, **fields: Any) -> None:
        allowed = set(Run.__dataclass_fields__) - {"id", "thread_id", "created_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"Unknown run fields: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.write() as db:
            db.conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*fields.values(), run_id])

    def finish_turn(
        self,
        run_id: int,
        *,
        user_message_id: int,
        user_status: str,
        reply: str | None,
        reply_status: str,
        thread_id: int,
        version_id: int | None,
        **run_fields: Any,
    ) -> int | None:
        """Close a turn in one transaction: the reply, the user message's status and the run."""
        now = time.time()
        reply_id = None
        with self.write() as db:
            db.conn.execute("UPDATE messages SET status = ? WHERE id = ?", (user_status, user_message_id))
            if reply is not None:
                cur = db.conn.execute(
                    "INSERT INTO messages (thread_id, role, content, version_id, run_id, status, created_at) "
                    "VALUES (?, 'assistant', ?, ?, ?, ?, ?)",
                    (thread_id, reply, version_id, run_id, reply_status, now),
                )
                reply_id = cur.lastrowid
            run_fields["finished_at"] = now
            assignments = ", ".join(f"{k} = ?" for k in run_fields)
            db.conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*run_fields.values(), run_id])
            db.conn.execute("UPDATE threads SET updated_at = ? WHERE id = ?", (now, thread_id))
        return reply_id

    def get_run(self, run_id: int) -> Run | None:
        with self.db() as db:
            row = db.conn.execute(
                f"SELECT {', '.join(Run.__dataclass_fields__)} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        return Run(*row) if row else None

    def list_runs(self, thread_id: int) -> list[Run]:
        with self.db() as db:
            rows = db.conn.execute(
                f"SELECT {', '.join(Run.__dataclass_fields__)} FROM runs WHERE thread_id = ? ORDER BY id",
                (thread_id,),
            ).fetchall()
        return [Run(*r) for r in rows]

    def recover_interrupted_runs(self) -> int:
        """Runs left in progress by a killed process are marked incomplete, so none stays open."""
        with self.write() as db:
            cur = db.conn.execute(
                "UPDATE runs SET status = 'incomplete', error = COALESCE(error, 'Interrupted: the app stopped "
                "during this turn.'), finished_at = ? WHERE status = 'in_progress' AND created_at < ?",
                (time.time(), time.time() - 600),
            )
        return cur.rowcount

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table (for tests and exports)."""
        with self.db() as db:
            return {name: [dict(r) for r in db[name].rows] for name in db.table_names()}


def _title(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
