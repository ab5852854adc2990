"""The SQLite log: assistants, their versions and drafts, threads, messages and runs.

It reaches its database through `playground/engine.py` (SQLAlchemy Core): each operation borrows a
connection from the log's pool for its length, a read in one snapshot, a write in one transaction that
holds the write lock from its start. Streamlit runs each rerun and each session on its own thread; a
pooled connection serves one of them at a time, never two. WAL lets readers carry on while one
session writes. SQL is written with named parameters; what only SQLite has (PRAGMAs, FTS5 search,
`julianday`, `json_extract`, the migration scripts) is used here as is, and is what a second engine
will have to say its own way.

The schema is `MIGRATIONS`, a list of named SQL steps run in order at open. Each runs in its own
transaction together with its row in `_migrations` (name, applied_at), so a file is always at one
migration or the next, never in between, and the record says which ran. A file from before the record
existed counted its migrations in `PRAGMA user_version`; the first open gives it the record (the first
that-many names, applied_at NULL) without running them. `user_version` is still set to the count, in
the same transaction: a build from before the record reads only it, so it sees a newer file as up to
date instead of running `create_tables` again. New steps go at the end; a name, once shipped, stays.

A run in progress holds a lease (`runs.lease_until`, on the database's clock), renewed by its
process's keeper thread while the turn runs, whether text arrives or not. Any process recovers only
runs whose lease has expired (at open, on the keeper's timer, and when a page polls a thread), so
several app processes can share one file without closing each other's live turns.

The storage model
-----------------
An *assistant* (`assistants`, with its `owner`) is what the user shapes. Its *draft* (`drafts`, one row
per assistant) is the editor's configuration as it stands, valid or not, with any message typed but not
yet sent (`unsent`); each *version* (`assistant_versions`, numbered 1, 2, … per assistant) is a valid
configuration frozen when the user saved it, and is what a turn runs. A *thread* (`threads`) belongs to
one assistant; its `kind` says what made it (chat, or a replay, compare or evaluation run), its `api`
how its turns run (upstream `conversations`, whose id it keeps, or `chat`, resent from the log).

A turn is a *user message* and a *run* (`runs`: the model, the version, status, tokens, timings, the
request and response as sent and received, the reply so far in `partial`, and the lease while it is in
progress). `start_turn` writes both in one transaction; while the reply streams, `checkpoint` keeps it
in `partial`; `finish_turn` closes the turn in one transaction: the *assistant message* (`messages`,
pointing at its run and version), the *function calls* the turn ended with (`tool_calls`, answered by
hand or by a handler in a later run), the user message's status, the run's end, and its lease released.
A process that dies mid-turn leaves the run in progress with a lease that runs out; a sweep closes it
(`recover_expired_runs`), its partial reply kept as an incomplete message. Files a turn's code made are
kept whole in `run_files` (their containers expire upstream); `messages_fts` indexes messages for search.

Uploaded *files* and *vector stores* belong to an owner directly, and so do *test sets* (`test_sets`,
their inputs in `test_cases`); a *replay* (`replays`) runs a test set on a version, with one
`replay_results` row per case, pointing at the thread and run it made.

Who owns what: everything hangs off an owner, through its assistant (versions, drafts, threads,
messages, runs, function calls, run files) or directly (files, vector stores, test sets, and through
them test cases, replays and results). `_OWNER_PATHS` says how each kind of row reaches its owner, and
`Store._mine` what "this owner's" means; every read and write by id goes through them (`_one` for a
read, `_check` for a write, in the write's transaction), so a row of another owner reads as None (or is
left out of a list; the reads of an assistant's draft and versions raise LookupError, as they always
have) and a write naming one (any of its ids) raises LookupError, writing nothing.
Process-level work (migrations, leases and their recovery, `adopt`, `forget_empty_sessions`) is not
any one owner's and stays outside the rule.

Rows come back by column name: each row type has `from_row(mapping)`, built from the dicts
`Db.rows` gives (one per row, keyed by column name), never by position. Reads of
the log's records (an assistant, a version, a thread, a message, a run, a function call, a file, a run's
file) return their dataclass, or a list of them. Reads made for a page's table or an export (listings
with counts and totals: `list_assistants`, `conversations`, `search`, `usage`, `usage_by_assistant`,
`list_vector_stores`, and the test-set and replay reads) return dicts, one per row, keyed by column
name, as pandas and the CSV writers take them. Inserts are dicts by column name too (`Db.insert`).
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy

from playground import engine, settings
from playground.assistant import AssistantConfig
from playground.errors import LogError, Problem, log_problem, needs_upgrade, opened_for_reading

logger = logging.getLogger(__name__)

LOCAL_OWNER = "local"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: `sql` (a script) and the `name` the `_migrations` table records it by."""

    name: str  # says what the step does; unique, and never renamed once shipped
    sql: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):  # it is spliced into the step's script
            raise ValueError(f"Migration names are lower_snake_case: {self.name!r}")


# Each entry moves the schema one step, in order; the `_migrations` table records which a file has had.
MIGRATIONS: list[Migration] = [
    # 1: the first schema: assistants, their versions and drafts, threads, runs and messages.
    Migration(
        "create_tables",
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
    ),
    # 2: function calls a turn ended with, and how each was answered (by hand or by a handler).
    Migration(
        "tool_calls",
        """
    CREATE TABLE tool_calls (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        call_id TEXT NOT NULL,
        name TEXT NOT NULL,
        arguments TEXT NOT NULL,
        problems TEXT NOT NULL DEFAULT '[]',
        output TEXT,
        source TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        created_at REAL NOT NULL,
        answered_at REAL
    );
    CREATE INDEX tool_calls_run ON tool_calls(run_id);
    """,
    ),
    # 3: the reply so far, checkpointed while it streams, so a killed process loses at most a second.
    Migration(
        "partial_replies",
        """
    ALTER TABLE runs ADD COLUMN partial TEXT;
    """,
    ),
    # 4: uploaded files (for file search and the code interpreter), the vector stores made here, and
    # the files a turn's code generated, fetched once: containers expire upstream, the log does not.
    Migration(
        "files",
        """
    CREATE TABLE vector_stores (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        file_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        purpose TEXT NOT NULL,
        vector_store_id TEXT,
        status TEXT NOT NULL,
        error TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX files_owner ON files(owner, purpose);
    CREATE TABLE run_files (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        container_id TEXT,
        file_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        content BLOB,
        error TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX run_files_run ON run_files(run_id);
    """,
    ),
    # 5: full-text search over messages (FTS5, kept in step by triggers), and threads by activity.
    Migration(
        "message_search",
        """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
    CREATE INDEX threads_updated ON threads(updated_at);
    CREATE INDEX runs_model ON runs(model, thread_id);
    """,
    ),
    # 6: test sets (inputs to replay) and replays of them on a version, with a result per input.
    Migration(
        "test_sets",
        """
    CREATE TABLE test_sets (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        mode TEXT NOT NULL,
        source_thread_id INTEGER,
        created_at REAL NOT NULL
    );
    CREATE TABLE test_cases (
        id INTEGER PRIMARY KEY,
        set_id INTEGER NOT NULL REFERENCES test_sets(id),
        position INTEGER NOT NULL,
        input TEXT NOT NULL
    );
    CREATE INDEX test_cases_set ON test_cases(set_id, position);
    CREATE TABLE replays (
        id INTEGER PRIMARY KEY,
        set_id INTEGER NOT NULL REFERENCES test_sets(id),
        version_id INTEGER NOT NULL REFERENCES assistant_versions(id),
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX replays_set ON replays(set_id);
    CREATE TABLE replay_results (
        id INTEGER PRIMARY KEY,
        replay_id INTEGER NOT NULL REFERENCES replays(id),
        case_id INTEGER NOT NULL REFERENCES test_cases(id),
        thread_id INTEGER,
        run_id INTEGER,
        output TEXT NOT NULL,
        status TEXT NOT NULL,
        total_tokens INTEGER,
        latency_ms REAL,
        error TEXT
    );
    CREATE INDEX replay_results_replay ON replay_results(replay_id);
    """,
    ),
    # 7: a message the user typed but could not send (the configuration had problems) is kept with
    # the draft, so a reload does not lose it; a run keeps the kind of its failure, so the page can
    # offer the right action (a new thread when the conversation is gone) without matching text.
    Migration(
        "unsent_and_run_problems",
        """
    ALTER TABLE drafts ADD COLUMN unsent TEXT;
    ALTER TABLE runs ADD COLUMN problem TEXT;
    """,
    ),
    # 8: a test set may come from several conversations (each case keeps the thread it came from, and
    # a conversation-mode replay runs each source thread's inputs in order on a thread of its own);
    # a replay result keeps its token split and model, so its cost survives deleting the thread it ran on.
    Migration(
        "case_sources_and_result_costs",
        """
    ALTER TABLE test_cases ADD COLUMN source_thread_id INTEGER;
    ALTER TABLE replay_results ADD COLUMN input_tokens INTEGER;
    ALTER TABLE replay_results ADD COLUMN output_tokens INTEGER;
    ALTER TABLE replay_results ADD COLUMN model TEXT;
    """,
    ),
    # 9: the way a thread runs its turns (conversations: upstream keeps it; chat: the log resends it),
    # fixed by its first turn, so pointing the app at another server never mixes the two in one thread.
    Migration(
        "thread_api",
        """
    ALTER TABLE threads ADD COLUMN api TEXT;
    """,
    ),
    # 10: how many of the oldest turns a chat turn left out because the server's context was full,
    # so the reply and its trace say so instead of pretending the model saw the whole thread.
    Migration(
        "dropped_turns",
        """
    ALTER TABLE runs ADD COLUMN dropped_turns INTEGER;
    """,
    ),
    # 11: what made a thread (chat, or a replay / compare / evaluation run), so made threads stay out
    # of the chat's list; and messages placed by hand into a thread (sent with the next turn, never
    # passed off as model output). Replays made before this are found through their results.
    Migration(
        "thread_kind_and_placed",
        """
    ALTER TABLE threads ADD COLUMN kind TEXT NOT NULL DEFAULT 'chat';
    UPDATE threads SET kind = 'replay' WHERE id IN (SELECT thread_id FROM replay_results WHERE thread_id IS NOT NULL);
    ALTER TABLE messages ADD COLUMN placed INTEGER NOT NULL DEFAULT 0;
    """,
    ),
    # 12: a run in progress holds a lease (unix seconds on the database's clock) that its process renews
    # while the turn runs; a lease run out means the process died, and any process then recovers the run.
    # Runs left in progress from before have none: they count as expired.
    Migration(
        "run_leases",
        """
    ALTER TABLE runs ADD COLUMN lease_until REAL;
    CREATE INDEX runs_in_progress ON runs(lease_until) WHERE status = 'in_progress';
    """,
    ),
    # 13: evaluation. A case has an expected output, variables and tags, and is deleted softly (old
    # runs' results still show its input); a test set keeps its graders (OpenAI testing_criteria JSON)
    # and a run the graders it ran with, its concurrency and a heartbeat on the database's clock (a
    # running one whose heartbeat stopped lost its process, and can be resumed); a result keeps each
    # grader's verdict and is unique per run and case, so a resumed run never does a case twice.
    Migration(
        "cases_graders_and_verdicts",
        """
    ALTER TABLE test_cases ADD COLUMN expected TEXT;
    ALTER TABLE test_cases ADD COLUMN variables TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE test_cases ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE test_cases ADD COLUMN deleted_at REAL;
    ALTER TABLE test_sets ADD COLUMN graders TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE replays ADD COLUMN graders TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE replays ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE replays ADD COLUMN beat_until REAL;
    ALTER TABLE replay_results ADD COLUMN verdicts TEXT;
    ALTER TABLE replay_results ADD COLUMN passed INTEGER;
    ALTER TABLE replay_results ADD COLUMN score REAL;
    DELETE FROM replay_results WHERE id NOT IN (SELECT MIN(id) FROM replay_results GROUP BY replay_id, case_id);
    CREATE UNIQUE INDEX replay_results_case ON replay_results(replay_id, case_id);
    """,
    ),
    # 14: what a deployment spends, per person per day (UTC): one row per request it paid for, written
    # when the request starts with an estimate (so parallel requests count at once), the tokens and
    # cost the server reported put in when it finishes (`settled`).
    Migration(
        "spending",
        """
    CREATE TABLE spending (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        person TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        cost REAL,
        settled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE INDEX spending_day ON spending(day, person);
    """,
    ),
    # 15: signed-in deployments. An assistant can be shared with everyone let in (they open, chat and
    # clone it; only its owner edits it); a thread made on someone else's shared assistant is its
    # maker's (`threads.owner`; NULL: the assistant's owner's, as every thread before this).
    Migration(
        "shared_assistants_and_thread_owners",
        """
    ALTER TABLE assistants ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE threads ADD COLUMN owner TEXT;
    """,
    ),
    # 16: why an evaluation run failed, or stopped by itself (a spending limit), in one sentence, so
    # every session and the command line can say it, not only the one that started the run.
    Migration(
        "run_outcomes",
        """
    ALTER TABLE replays ADD COLUMN error TEXT;
    """,
    ),
    # 17: facts about the deployment itself, each written once: that the first admin received what was
    # made before sign-in (so rows the command line makes later, owned by no person, stay where they are).
    Migration(
        "deployment_facts",
        """
    CREATE TABLE deployment_facts (name TEXT PRIMARY KEY, value TEXT, recorded_at REAL NOT NULL);
    """,
    ),
]

MESSAGE_STATUSES = ("complete", "incomplete", "failed")
RUN_STATUSES = ("in_progress", "completed", "requires_action", "incomplete", "failed", "cancelled")

RANK_WINDOW = 5000  # search ranks only the newest this-many matches
LISTED = 500  # threads the Conversations table lists; counts, exports and test sets cover every match

_migrated: set[str] = set()
_migrate_lock = threading.Lock()
# Logs whose writes at open were skipped (locked or read-only); later opens retry without waiting.
_skipped: set[str] = set()
# Now in unix seconds on the database's clock, with a fraction (SQLite 3.40 has no unixepoch('subsec')).
# Leases are written and compared with it, never with a process's clock.
DB_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
# A blank assistant an anonymous session made is forgotten at open once it is this old: another app
# process on the log may still be showing it to its session, so "made before this process" is no test.
BLANK_SESSION_AGE_S = 24 * 3600.0
# The runs whose process died: in progress, with a lease run out (or none, from before leases).
_EXPIRED = f"status = 'in_progress' AND (lease_until IS NULL OR lease_until < {DB_NOW})"


@dataclass
class Assistant:
    id: int
    name: str
    created_at: float
    updated_at: float
    archived_at: float | None = None
    owner: str = ""
    shared: bool = False  # everyone let in may open, chat with and clone it; only its owner edits it

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Assistant:
        assistant = _from_row(cls, row)
        assistant.shared = bool(assistant.shared)
        return assistant


@dataclass
class Version:
    id: int
    assistant_id: int
    number: int
    config: AssistantConfig
    note: str
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Version:
        """`config` is the column's JSON, read back into an AssistantConfig."""
        return _from_row(cls, row, config=AssistantConfig.from_json(row["config"]))


@dataclass
class Thread:
    id: int
    assistant_id: int
    conversation_id: str | None
    title: str
    created_at: float
    updated_at: float
    api: str | None = None  # conversations | chat; None until the first turn settles it
    kind: str = "chat"  # chat | replay | compare | eval: only chat threads are listed in the chat
    owner: str | None = None  # who made it on someone else's shared assistant (None: the assistant's owner)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Thread:
        return _from_row(cls, row)


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
    problem: str | None = None
    placed: bool = False  # put in the thread by hand, not typed as a turn or written by the model

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Message:
        """The message's columns, and those of its version and run the reads join in (`MESSAGE_COLUMNS`)."""
        return _placed(_from_row(cls, row))


@dataclass
class ToolCallRow:
    id: int
    run_id: int
    thread_id: int
    call_id: str
    name: str
    arguments: str
    problems: list[str]
    output: str | None
    source: str | None
    status: str  # pending | answered
    created_at: float
    answered_at: float | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ToolCallRow:
        """`problems` is the column's JSON list."""
        return _from_row(cls, row, problems=json.loads(row["problems"]))


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
    problem: str | None = None  # the kind of failure (errors.Problem.kind), when it failed
    dropped_turns: int | None = None  # oldest turns not sent: the server's context was full

    @classmethod
    def from_row(cls, row: Mapping[str, Any], **values: Any) -> Run:
        return _from_row(cls, row, **values)


@dataclass
class FileRow:
    id: int
    file_id: str
    filename: str
    bytes: int
    purpose: str  # file_search | code_interpreter
    vector_store_id: str | None
    status: str  # uploaded | in_progress | completed | failed
    error: str | None
    created_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FileRow:
        return _from_row(cls, row)


@dataclass
class RunFile:
    id: int
    run_id: int
    container_id: str | None
    file_id: str
    filename: str
    size: int  # bytes of `content`, which is read only on demand (`run_file_content`)
    error: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunFile:
        return _from_row(cls, row)


_Row = TypeVar("_Row")


def _from_row(cls: type[_Row], row: Mapping[str, Any], **values: Any) -> _Row:
    """A row type built from a row by column name: each field from the column of its name (a column the
    read did not select leaves the field's default), `values` over both. Works on any mapping: the
    dicts `Db.rows` gives, SQLAlchemy's `Row._mapping`."""
    kind: Any = cls  # a class is hashable; functools.cache's typing cannot say so of type[_Row]
    columns = row.keys()  # keys(), not `in row`: a sqlite3.Row's `in` looks at its values
    found = {name: row[name] for name in _field_names(kind) if name in columns and name not in values}
    return cls(**found, **values)


def _from_rows(cls: type[_Row], rows: list[dict[str, Any]], **values: Any) -> list[_Row]:
    """The rows of one read, each as `_from_row` builds it; their columns are sorted out once, not per
    row: two thirds of reading a 1,000-message thread went there (bench/store_speed.py)."""
    kind: Any = cls
    if rows and _all_fields(kind, tuple(rows[0])) and not values.keys() & rows[0].keys():
        return [cls(**row, **values) for row in rows]  # a read selecting the row type's own columns
    return [_from_row(cls, row, **values) for row in rows]


@functools.cache
def _field_names(cls: Any) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


@functools.cache
def _all_fields(cls: Any, columns: tuple[str, ...]) -> bool:
    return set(columns) <= _field_names(cls)


def _placed(message: Message) -> Message:
    message.placed = bool(message.placed)  # SQLite keeps it as 0 or 1
    return message


def _columns(cls: type, alias: str = "", *, leave_out: Collection[str] = ()) -> str:
    """The SELECT list for a row type's own table: each field by name (as `alias.field` with an alias)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{f.name}" for f in fields(cls) if f.name not in leave_out)


# A message as the reads give it: its own columns, its version's number and its run's outcome.
MESSAGE_COLUMNS = (
    "m.id, m.thread_id, m.role, m.content, m.version_id, m.run_id, m.status, m.created_at, m.placed, "
    "v.number AS version_number, r.model, r.error, r.status AS run_status, r.problem"
)


# Who owns what: for each kind of row, the way from a row (by its id) to the row holding its owner
# (alias o). With `Store._mine` (what "this owner's" means), this is the one ownership rule: every
# read and write by id goes through `Store._check`, and the lists filter with `Store._mine`. The
# sign-in issue changes who owns what here and there, nowhere else.
_OWNER_PATHS: dict[str, tuple[str, str, str]] = {  # kind: (FROM clause, the row's id column, whose it is)
    "assistant": ("assistants o", "o.id", "o.owner"),
    "version": ("assistant_versions x JOIN assistants o ON o.id = x.assistant_id", "x.id", "o.owner"),
    "thread": ("threads x JOIN assistants o ON o.id = x.assistant_id", "x.id", "COALESCE(x.owner, o.owner)"),
    "message": (
        "messages x JOIN threads t ON t.id = x.thread_id JOIN assistants o ON o.id = t.assistant_id",
        "x.id",
        "COALESCE(t.owner, o.owner)",
    ),
    "run": (
        "runs x JOIN threads t ON t.id = x.thread_id JOIN assistants o ON o.id = t.assistant_id",
        "x.id",
        "COALESCE(t.owner, o.owner)",
    ),
    "run_file": (
        "run_files x JOIN runs r ON r.id = x.run_id JOIN threads t ON t.id = r.thread_id "
        "JOIN assistants o ON o.id = t.assistant_id",
        "x.id",
        "COALESCE(t.owner, o.owner)",
    ),
    "file": ("files o", "o.id", "o.owner"),
    "vector_store": ("vector_stores o", "o.id", "o.owner"),
    "test_set": ("test_sets o", "o.id", "o.owner"),
    "test_case": ("test_cases x JOIN test_sets o ON o.id = x.set_id", "x.id", "o.owner"),
    "replay": ("replays x JOIN test_sets o ON o.id = x.set_id", "x.id", "o.owner"),
}
# Kinds a shared assistant lets others see (and refer to: chat with a version, clone it), not change.
_SHAREABLE = {"assistant", "version"}


class Store:
    """The log for one owner. Holds a path, never a connection, so it is safe to build per rerun."""

    def __init__(
        self,
        path: str | Path,
        owner: str = LOCAL_OWNER,
        *,
        read_only: bool | None = None,
        busy_timeout: float | None = None,
        max_mb: float | None = None,
        admin: bool = False,
    ) -> None:
        """Open the log (migrating it, closing interrupted turns). An `admin` (signed in, on the
        deployment's `admins` list) sees, changes and deletes anyone's rows. Raises LogError when it cannot be
        read at all; when it can be read but not written, `read_only` and `problem` say so."""
        self.path = Path(path)
        self.owner = owner
        self.admin = admin
        self.read_only = settings.db_read_only() if read_only is None else read_only
        self.busy_timeout = settings.db_busy_timeout() if busy_timeout is None else busy_timeout
        self.max_mb = settings.db_max_mb() if max_mb is None else max_mb
        # Why the log is open for reading only (read-only or locked), as the pages say it.
        self.problem: Problem | None = None
        self._wait = self.busy_timeout
        self._migrate()

    # -- connections --------------------------------------------------------------------------

    @contextmanager
    def db(self) -> Iterator[engine.Db]:
        """A connection for one read, in one snapshot; the log's refusals come out as LogError."""
        with self._connect(write=False) as db:
            yield db

    @contextmanager
    def write(self) -> Iterator[engine.Db]:
        """One write transaction, holding the write lock from its start: all of it lands, or none of it."""
        with self._connect(write=True) as db:
            yield db

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[engine.Db]:
        try:
            with engine.connect(self._engine(), write=write, busy_timeout=self._wait) as db:
                yield db
        except (sqlalchemy.exc.DBAPIError, sqlite3.Error, OSError) as exc:
            refused = self._refused(exc)
            if refused is None:
                raise
            raise refused from exc

    @contextmanager
    def _raw(self) -> Iterator[sqlite3.Connection]:
        """The driver's connection, for what is SQLite's alone: migration scripts, the switch to WAL."""
        try:
            with engine.raw_connection(self._engine(), busy_timeout=self._wait) as conn:
                yield conn
        except (sqlalchemy.exc.DBAPIError, sqlite3.Error, OSError) as exc:
            refused = self._refused(exc)
            if refused is None:
                raise
            raise refused from exc

    def _engine(self) -> sqlalchemy.Engine:
        return engine.engine_for(self.path, read_only=self.read_only, max_mb=self.max_mb)

    def _refused(self, exc: BaseException) -> LogError | None:
        """The failure as LogError, one sentence, when it is the log refusing (None: a bug, raised as is)."""
        problem = log_problem(engine.driver_error(exc), self.path, waited=self._wait)
        return None if problem is None else LogError(problem)

    def _migrate(self) -> None:
        """The writes done at open: migrations, recovering turns whose lease ran out, dropping blank assistants.

        A log that cannot take them (read-only, or locked by another program) opens for reading, with
        `problem` saying why, unless its schema is too old to read; the next open tries them again.
        """
        key = str(self.path.resolve())
        if key in _migrated:
            # Made read-only since this process opened it (chattr, a remount): say so before a write fails.
            if not self.read_only and self.path.exists() and not os.access(self.path, os.W_OK):
                self.read_only = True
                self.problem = opened_for_reading("db_read_only", self.path)
            elif self.read_only:
                self.problem = opened_for_reading("db_read_only", self.path, by_setting=settings.db_read_only())
            return
        with _migrate_lock:
            if key in _migrated:
                return
            self._make_folder()
            pending = self.pending_migrations()  # a file that is not a database says so here
            if self.read_only:
                cause = opened_for_reading("db_read_only", self.path, by_setting=settings.db_read_only())
                if pending:
                    raise LogError(needs_upgrade(self.path, pending, cause))
                self.problem = cause
                return
            if key in _skipped:
                self._wait = 0  # known to be locked: a page should not wait for it on every rerun
            try:
                with self._raw() as conn:  # SQLite's own: its scripts say their own transactions
                    self._use_wal(conn)
                    self._record_user_version(conn)
                    for position, migration in enumerate(MIGRATIONS, start=1):
                        if migration.name in pending:
                            self._run_migration(conn, migration, position)
                # Runs of a process that died (their lease ran out); never a live turn of another process.
                self.recover_expired_runs(spare=_held_here(self.path))
                self.forget_empty_sessions(before=time.time() - BLANK_SESSION_AGE_S)
            except LogError as exc:
                if exc.problem.kind not in ("db_locked", "db_read_only"):
                    raise
                _skipped.add(key)
                self.problem = opened_for_reading(exc.problem.kind, self.path)
                self.read_only = exc.problem.kind == "db_read_only"
                if pending:
                    raise LogError(needs_upgrade(self.path, pending, exc.problem)) from exc
                return
            finally:
                self._wait = self.busy_timeout
            _skipped.discard(key)
            _migrated.add(key)
            _keep_leases(self)  # renews this process's leases and sweeps expired ones from now on

    def _make_folder(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as failed:
            blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
            cause = failed if blocker is None else NotADirectoryError(errno.ENOTDIR, f"{blocker} is a file")
            raise LogError(log_problem(cause, self.path) or Problem("db_unreachable", str(cause))) from failed

    def applied_migrations(self) -> list[str]:
        """The names of the migrations this file has had, in the order they ran (for a file from before
        the `_migrations` record: the first `PRAGMA user_version` of `MIGRATIONS`)."""
        with self._raw() as conn:
            return self._applied(conn)

    def pending_migrations(self) -> list[str]:
        """The names of the migrations this file still needs, in the order they will run."""
        applied = set(self.applied_migrations())
        return [m.name for m in MIGRATIONS if m.name not in applied]

    @staticmethod
    def _has_record(conn: sqlite3.Connection) -> bool:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'")
        return bool(found.fetchall())  # read to the end: no statement left holding a read lock

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch a file to WAL. Processes opening a new file at once can make SQLite refuse the switch
        at once rather than wait (to avoid a deadlock between two readers wanting to write), so the
        switch is tried again, within the busy timeout, as the busy handler would have."""
        deadline = time.monotonic() + self._wait
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchall()
                return
            except sqlite3.OperationalError as exc:
                code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
                if code not in (5, 6) or time.monotonic() >= deadline:  # SQLITE_BUSY, SQLITE_LOCKED
                    raise
                time.sleep(0.01)

    @classmethod
    def _applied(cls, conn: sqlite3.Connection) -> list[str]:
        if cls._has_record(conn):
            return [name for (name,) in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        count = conn.execute("PRAGMA user_version").fetchone()[0]
        return [m.name for m in MIGRATIONS[:count]]

    @classmethod
    def _record_user_version(cls, conn: sqlite3.Connection) -> None:
        """Give a file without the `_migrations` record one: the names of its first `PRAGMA user_version`
        migrations, with applied_at NULL (they ran before the record, when is not known), not run again.
        One transaction, checked again under the write lock, so two processes at once make one record."""
        if cls._has_record(conn):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not cls._has_record(conn):
                names = cls._applied(conn)
                conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
                conn.executemany("INSERT INTO _migrations (name, applied_at) VALUES (?, NULL)", [(n,) for n in names])
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    @classmethod
    def _run_migration(cls, conn: sqlite3.Connection, migration: Migration, position: int) -> None:
        """Run one migration, its row in `_migrations` and `user_version` (its position) in one
        transaction: all of it lands, or none. The row goes first, so a process that waited for the lock
        while another ran this same step fails on the name before touching the schema, and moves on."""
        script = (
            "BEGIN IMMEDIATE;\n"
            f"INSERT INTO _migrations (name, applied_at) VALUES ('{migration.name}', {time.time()!r});\n"
            f"{migration.sql}\n;\n"
            f"PRAGMA user_version = {position};\n"
            "COMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.rollback()
            if migration.name in cls._applied(conn):
                return
            raise

    # -- assistants ---------------------------------------------------------------------------

    def create_assistant(self, config: AssistantConfig | None = None) -> Assistant:
        """A new assistant with a draft and no version yet (the user has not pressed Create)."""
        config = config or AssistantConfig()
        now = time.time()
        row = {"owner": self.owner, "name": config.name, "created_at": now, "updated_at": now}
        with self.write() as db:
            assistant_id = db.insert("assistants", row)
            db.insert("drafts", {"assistant_id": assistant_id, "config": config.to_json(), "updated_at": now})
        return Assistant.from_row({**row, "id": assistant_id})

    def get_assistant(self, assistant_id: int) -> Assistant | None:
        """The assistant if this owner may see it; someone else's shared one under its published name
        (its latest version's), never its owner's draft name."""
        with self.db() as db:
            row = self._one(db, "assistant", assistant_id, _columns(Assistant))
            if row and not self._owns(db, "assistant", assistant_id):
                row["name"] = db.value(
                    f"SELECT {_seen_name('a', '0')} FROM assistants a WHERE a.id = :id", {"id": assistant_id}
                )
        return Assistant.from_row(row) if row else None

    def list_assistants(self, include_archived: bool = False) -> list[dict[str, Any]]:
        """Assistants with their model, version count, thread count and last use, newest first."""
        sql = """
            SELECT a.id, {name} AS name, a.created_at, a.updated_at, a.archived_at, a.owner, a.shared,
                   (SELECT COUNT(*) FROM assistant_versions v WHERE v.assistant_id = a.id) AS versions,
                   (SELECT COUNT(*) FROM threads t WHERE t.assistant_id = a.id AND {threads}) AS threads,
                   (SELECT MAX(t.updated_at) FROM threads t WHERE t.assistant_id = a.id AND {threads}) AS last_used,
                   CASE WHEN {mine_only} THEN (SELECT json_extract(d.config, '$.model') FROM drafts d
                     WHERE d.assistant_id = a.id)
                   ELSE (SELECT json_extract(v.config, '$.model') FROM assistant_versions v
                     WHERE v.assistant_id = a.id ORDER BY v.number DESC LIMIT 1) END AS model
            FROM assistants a WHERE {mine} {archived}
            ORDER BY COALESCE(last_used, a.updated_at) DESC, a.id DESC
        """
        mine, params = self._visible("a")
        mine_only, _ = self._mine("a")
        threads, _ = self._threads_mine()
        archived = "" if include_archived else "AND a.archived_at IS NULL"
        # Someone else's shows its name as published (the latest version's), not their draft's.
        name = _seen_name("a", mine_only)
        sql = sql.format(name=name, mine=mine, mine_only=mine_only, threads=threads, archived=archived)
        with self.db() as db:
            return db.rows(sql, params)

    def archive_assistant(self, assistant_id: int, archived: bool = True) -> None:
        """Hide an assistant from the lists (its versions and threads stay in the log)."""
        with self.write() as db:
            self._check(db, "assistant", assistant_id)
            db.execute(
                "UPDATE assistants SET archived_at = :at WHERE id = :id",
                {"at": time.time() if archived else None, "id": assistant_id},
            )

    def create_assistant_from(self, config: AssistantConfig, note: str) -> tuple[Assistant, Version | None]:
        """A new assistant holding `config`: as its draft, and as v1 (with `note`) when it is valid.
        An invalid config stays a draft only, so nothing is lost and the editor shows what to fix."""
        assistant = self.create_assistant(config)
        if config.validate():
            return assistant, None
        version, _ = self.save_version(assistant.id, config, note=note)
        return assistant, version

    def clone_assistant(self, assistant_id: int) -> Assistant:
        """A new assistant from this one's latest version (or its draft, of one's own), named "… (copy)".
        One shared with this owner is cloned from its latest version: its draft is its owner's."""
        latest = self.latest_version(assistant_id)
        if latest is None and not self._is_own(assistant_id):
            raise ValueError("It has no saved version yet: its owner's draft is theirs, so there is nothing to clone.")
        draft = None if latest else self.get_draft(assistant_id)
        source = latest.config if latest else (draft[0] if draft else AssistantConfig())
        config = AssistantConfig.from_dict(source.to_dict())
        config.name = f"{config.name or 'Untitled'} (copy)"[:256]
        where = f"v{latest.number}" if latest else "draft"
        clone, _ = self.create_assistant_from(config, note=f"cloned from #{assistant_id} {where}")
        return clone

    # -- ownership: the one rule ------------------------------------------------------------

    def _mine(self, alias: str, whose: str | None = None) -> tuple[str, dict[str, Any]]:
        """What "this owner's" means, as SQL and its parameters: the row `alias` holding an owner column
        (an assistant, a file, a vector store, a test set), or the expression `whose` (a thread's
        `COALESCE(t.owner, a.owner)`). Every owned read and write says it so. An admin's is everyone's."""
        if self.admin:
            return ":owner IS NOT NULL", {"owner": self.owner}  # true, and the parameter stays in use
        return f"{whose or alias + '.owner'} = :owner", {"owner": self.owner}

    def _is_own(self, assistant_id: int) -> bool:
        """Whether this owner may change the assistant (theirs, or an admin), not only see it."""
        with self.db() as db:
            return self._owns(db, "assistant", assistant_id)

    def _threads_mine(self, thread: str = "t", assistant: str = "a") -> tuple[str, dict[str, Any]]:
        """ "This owner's threads": those they made, on their own assistants or on one shared with them;
        an assistant's owner does not see the threads others made on it."""
        return self._mine(assistant, f"COALESCE({thread}.owner, {assistant}.owner)")

    def _visible(self, alias: str) -> tuple[str, dict[str, Any]]:
        """The assistants this owner may see: theirs, and those shared with everyone let in."""
        mine, params = self._mine(alias)
        return f"({mine} OR {alias}.shared = 1)", params

    def _owns(self, db: engine.Db, kind: str, row_id: int | str | None, *, seeing: bool = False) -> bool:
        """Whether the `kind` row `row_id` is this owner's (see `_OWNER_PATHS`); a missing row is not.
        `seeing`: whether they may see it (and refer to it), which a shared assistant and its versions
        allow others too."""
        return row_id is not None and bool(self._owned_ids(db, kind, [row_id], seeing=seeing))

    def _owned_ids(self, db: engine.Db, kind: str, row_ids: Sequence[int | str], *, seeing: bool = False) -> list[Any]:
        """Those of `row_ids` that are `kind` rows of this owner's (or that they may see), in one query."""
        if not row_ids:
            return []
        table, id_column, whose = _OWNER_PATHS[kind]
        mine, params = self._mine("o", whose)
        if seeing and kind in _SHAREABLE:
            mine = f"({mine} OR o.shared = 1)"
        sql = f"SELECT {id_column} FROM {table} WHERE {id_column} IN :ids AND {mine}"
        return [r[0] for r in db.execute(sql, {**params, "ids": list(row_ids)})]

    def _check(self, db: engine.Db, kind: str, *row_ids: int | str | None, seeing: bool = False) -> None:
        """The rule for a write by id: each of `row_ids` (None skipped: an optional reference) is a
        `kind` row of this owner's, else LookupError and nothing written; with `seeing`, one they may
        see is enough (a row the write refers to, not one it changes: a shared assistant's version a
        turn runs). Run it inside the write's transaction, so the row cannot change hands between the
        check and the write."""
        for row_id in row_ids:
            if row_id is not None and not self._owns(db, kind, row_id, seeing=seeing):
                raise LookupError(f"No {kind.replace('_', ' ')} {row_id} for this owner.")

    def _one(self, db: engine.Db, kind: str, row_id: int | str, columns: str = "*") -> dict[str, Any] | None:
        """The rule for a read by id: the `kind` row `row_id` (those `columns` of it), by column name,
        if this owner may see it; None otherwise."""
        if not self._owns(db, kind, row_id, seeing=True):
            return None
        table = _OWNER_PATHS[kind][0].split()[0]
        rows = db.rows(f"SELECT {columns} FROM {table} WHERE id = :id", {"id": row_id})
        return rows[0] if rows else None

    def share_assistant(self, assistant_id: int, shared: bool = True) -> None:
        """Share an assistant with everyone let in (they open, chat and clone it), or stop sharing it.
        Only its owner (or an admin) may."""
        with self.write() as db:
            self._check(db, "assistant", assistant_id)
            db.execute(
                "UPDATE assistants SET shared = :shared WHERE id = :id", {"shared": int(shared), "id": assistant_id}
            )

    def claim_unsigned(self) -> int:
        """Give this owner (the first admin, as sign-in is turned on) what was made before sign-in:
        everything whose owner is not a person (a key's log, the local log, a browser session's), the
        assistants shared, so everyone let in keeps reaching them. Returns how many assistants moved.
        Once per log (recorded in `deployment_facts`): later rows owned by no person (the command line's,
        `local`) stay theirs.
        Outside the ownership rule on purpose, as `adopt`: it changes owners."""
        unsigned = {"owner": self.owner, "person": "%@%"}
        with self.write() as db:
            if db.value("SELECT 1 FROM deployment_facts WHERE name = 'unsigned_claimed'"):
                return 0  # once per log: what the command line (owner "local") makes later stays its own
            db.insert("deployment_facts", {"name": "unsigned_claimed", "value": self.owner, "recorded_at": time.time()})
            moved = db.execute(
                "UPDATE assistants SET owner = :owner, shared = 1 WHERE owner NOT LIKE :person", unsigned
            ).rowcount
            for table in ("vector_stores", "files", "test_sets"):
                db.execute(f"UPDATE {table} SET owner = :owner WHERE owner NOT LIKE :person", unsigned)
        return moved

    def adopt(self, from_owner: str) -> int:
        """Move everything `from_owner` made into this log; returns how many assistants moved.

        A visitor's work from before they typed a key lives under their session's anonymous
        owner; once they connect, it joins their key's log instead of vanishing from view.

        Outside the ownership rule on purpose: it changes owners, for a session that holds both
        (its own anonymous owner and the key it connected with), not rows of one owner's.
        """
        if from_owner == self.owner:
            return 0
        with self.write() as db:
            owners = {"to": self.owner, "from": from_owner}
            moved = db.execute("UPDATE assistants SET owner = :to WHERE owner = :from", owners).rowcount
            for table in ("vector_stores", "files", "test_sets"):
                db.execute(f"UPDATE {table} SET owner = :to WHERE owner = :from", owners)
        return moved

    # -- drafts and versions ------------------------------------------------------------------

    def save_draft(self, assistant_id: int, config: AssistantConfig) -> float:
        """Keep the edit as it is, valid or not, so a refresh or crash loses nothing."""
        now = time.time()
        with self.write() as db:
            self._check(db, "assistant", assistant_id)
            db.execute(
                "INSERT INTO drafts (assistant_id, config, updated_at) VALUES (:id, :config, :now) "
                "ON CONFLICT(assistant_id) DO UPDATE SET config = excluded.config, "
                "updated_at = excluded.updated_at",
                {"id": assistant_id, "config": config.to_json(), "now": now},
            )
            db.execute(
                "UPDATE assistants SET name = :name, updated_at = :now WHERE id = :id",
                {"name": config.name, "now": now, "id": assistant_id},
            )
        return now

    def set_unsent(self, assistant_id: int, text: str | None) -> None:
        """Keep (or, with None, drop) a message the user typed but could not send yet."""
        with self.write() as db:
            self._check(db, "assistant", assistant_id)
            db.execute("UPDATE drafts SET unsent = :text WHERE assistant_id = :id", {"text": text, "id": assistant_id})

    def get_unsent(self, assistant_id: int) -> str | None:
        """The message kept unsent; LookupError for another owner's assistant (as the draft's reads)."""
        with self.db() as db:
            self._check(db, "assistant", assistant_id)
            rows = db.rows("SELECT unsent FROM drafts WHERE assistant_id = :id", {"id": assistant_id})
        return rows[0]["unsent"] if rows else None

    def get_draft(self, assistant_id: int) -> tuple[AssistantConfig, float] | None:
        """The draft and when it was saved; LookupError for another owner's assistant."""
        with self.db() as db:
            self._check(db, "assistant", assistant_id)
            rows = db.rows("SELECT config, updated_at FROM drafts WHERE assistant_id = :id", {"id": assistant_id})
        return (AssistantConfig.from_json(rows[0]["config"]), rows[0]["updated_at"]) if rows else None

    def latest_version(self, assistant_id: int) -> Version | None:
        versions = self.list_versions(assistant_id, limit=1)
        return versions[0] if versions else None

    def list_versions(self, assistant_id: int, limit: int | None = None) -> list[Version]:
        """The assistant's versions, newest first; LookupError for another owner's assistant."""
        sql = (
            f"SELECT {_columns(Version, 'v')} FROM assistant_versions v WHERE v.assistant_id = :id "
            "ORDER BY v.number DESC"
        )
        params: dict[str, Any] = {"id": assistant_id}
        if limit:
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self.db() as db:
            self._check(db, "assistant", assistant_id, seeing=True)
            return [Version.from_row(r) for r in db.rows(sql, params)]

    def get_version(self, version_id: int) -> Version | None:
        with self.db() as db:
            row = self._one(db, "version", version_id, _columns(Version))
        return Version.from_row(row) if row else None

    def save_version(self, assistant_id: int, config: AssistantConfig, note: str = "") -> tuple[Version, bool]:
        """Make `config` the newest version unless it already is. Returns (version, created).

        Refuses an invalid config: a version is something a turn can run.
        """
        problems = config.validate()
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        text = config.to_json()
        now = time.time()
        with self.write() as db:
            self._check(db, "assistant", assistant_id)
            latest = db.rows(
                f"SELECT {_columns(Version, 'v')} FROM assistant_versions v "
                "WHERE v.assistant_id = :id ORDER BY v.number DESC LIMIT 1",
                {"id": assistant_id},
            )
            if latest and latest[0]["config"] == text:
                return Version.from_row(latest[0]), False
            row = {
                "assistant_id": assistant_id,
                "number": (latest[0]["number"] if latest else 0) + 1,
                "config": text,
                "note": note,
                "created_at": now,
            }
            version_id = db.insert("assistant_versions", row)
            db.execute(
                "INSERT INTO drafts (assistant_id, config, updated_at) VALUES (:id, :config, :now) "
                "ON CONFLICT(assistant_id) DO UPDATE SET config = excluded.config",
                {"id": assistant_id, "config": text, "now": now},
            )
            db.execute(
                "UPDATE assistants SET name = :name, updated_at = :now WHERE id = :id",
                {"name": config.name, "now": now, "id": assistant_id},
            )

        return Version.from_row({**row, "id": version_id}), True

    # -- threads ------------------------------------------------------------------------------

    def create_thread(self, assistant_id: int, title: str = "", kind: str = "chat") -> Thread:
        """`kind` says what made the thread: chat, or a replay, compare or evaluation run."""
        now = time.time()
        row = {"assistant_id": assistant_id, "title": title, "created_at": now, "updated_at": now, "kind": kind}
        with self.write() as db:
            self._check(db, "assistant", assistant_id, seeing=True)
            if db.value("SELECT owner FROM assistants WHERE id = :id", {"id": assistant_id}) != self.owner:
                row["owner"] = self.owner  # on someone else's shared assistant: the thread is its maker's
            thread_id = db.insert("threads", row)
        return Thread.from_row({**row, "id": thread_id, "conversation_id": None})

    def get_thread(self, thread_id: int) -> Thread | None:
        with self.db() as db:
            row = self._one(db, "thread", thread_id, _columns(Thread))
        return Thread.from_row(row) if row else None

    def list_threads(
        self,
        assistant_id: int,
        limit: int = 50,
        *,
        kinds: tuple[str, ...] | None = ("chat",),
        query: str | None = None,
    ) -> list[Thread]:
        """An assistant's threads, latest activity first: by default only its chat threads (None: every
        kind, also those replays, compares and evaluations made).

        `query` (the sidebar's search; blank means none) keeps the threads whose title holds every
        word (any case, accents ignored) or that have a message matching the words (full-text search,
        as on Conversations). Both run in one SQL query over all the assistant's threads.
        """
        mine, owner = self._threads_mine()
        where: list[str] = ["t.assistant_id = :assistant_id", mine]
        params: dict[str, Any] = {"assistant_id": assistant_id, "limit": limit, **owner}
        if kinds is not None:
            where.append("t.kind IN :kinds")
            params["kinds"] = list(kinds)
        words = [engine.folded(w) for w in (query or "").split()]
        if words:
            # folded(): SQLite's own, a function each pooled connection is given when it opens.
            found = " AND ".join(f"instr(folded(t.title), :word{i}) > 0" for i in range(len(words)))
            params.update({f"word{i}": word for i, word in enumerate(words)})
            if fts := fts_query(query or ""):  # words with no letters (only "?!") match titles only
                found += (
                    " OR t.id IN (SELECT m.thread_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
                    "WHERE messages_fts MATCH :fts)"
                )
                params["fts"] = fts
            where.append(f"({found})")
        sql = (
            f"SELECT {_columns(Thread, 't')} FROM threads t JOIN assistants a ON a.id = t.assistant_id "
            f"WHERE {' AND '.join(where)} ORDER BY t.updated_at DESC, t.id DESC LIMIT :limit"
        )
        with self.db() as db:
            self._check(db, "assistant", assistant_id, seeing=True)
            return [Thread.from_row(r) for r in db.rows(sql, params)]

    MAX_TITLE = 100  # characters in a thread's title
    THREAD_KINDS = ("chat", "replay", "compare", "eval")

    def rename_thread(self, thread_id: int, title: str) -> Thread:
        """Name a thread: one line (spaces tidied, control characters dropped), at most MAX_TITLE
        characters, else ValueError. An empty title gives the thread back its automatic name, the start
        of its first message (none yet: the first message names it). Renaming is not activity: the
        thread keeps its place in the lists."""
        title = " ".join("".join(ch for ch in str(title) if unicodedata.category(ch) != "Cc" or ch.isspace()).split())
        if len(title) > self.MAX_TITLE:
            raise ValueError(f"A title holds at most {self.MAX_TITLE} characters; this one has {len(title)}.")
        with self.write() as db:
            self._check(db, "thread", thread_id)
            if not title:
                first = db.value(
                    "SELECT content FROM messages WHERE thread_id = :id AND role = 'user' ORDER BY id LIMIT 1",
                    {"id": thread_id},
                )
                title = _title(first) if first is not None else ""
            db.execute("UPDATE threads SET title = :title WHERE id = :id", {"title": title, "id": thread_id})
            row = self._one(db, "thread", thread_id, _columns(Thread))
        assert row is not None  # checked above, in this transaction
        return Thread.from_row(row)

    def set_thread_kind(self, thread_id: int, kind: str) -> None:
        """Say what a thread is now: a compare or replay thread continued in the Playground becomes a
        chat thread, so it is listed there like the user's own."""
        if kind not in self.THREAD_KINDS:
            raise ValueError(f"Unknown thread kind {kind!r}.")
        with self.write() as db:
            self._check(db, "thread", thread_id)
            db.execute("UPDATE threads SET kind = :kind WHERE id = :id", {"kind": kind, "id": thread_id})

    def set_thread_api(self, thread_id: int, api: str) -> None:
        """Fix the way a thread runs its turns; its first turn does it, once."""
        with self.write() as db:
            self._check(db, "thread", thread_id)
            db.execute("UPDATE threads SET api = :api WHERE id = :id AND api IS NULL", {"api": api, "id": thread_id})

    def set_conversation(self, thread_id: int, conversation_id: str | None) -> None:
        with self.write() as db:
            self._check(db, "thread", thread_id)
            db.execute(
                "UPDATE threads SET conversation_id = :conversation, updated_at = :now WHERE id = :id",
                {"conversation": conversation_id, "now": time.time(), "id": thread_id},
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
        row = {
            "thread_id": thread_id,
            "role": role,
            "content": content,
            "version_id": version_id,
            "run_id": run_id,
            "status": status,
            "created_at": now,
        }
        with self.write() as db:
            self._check(db, "thread", thread_id)
            self._check(db, "version", version_id, seeing=True)
            self._check(db, "run", run_id)
            message_id = db.insert("messages", row)
            # The first user message names the thread, so the thread list reads like a history.
            _touch_thread(db, thread_id, now, role, content)
        return message_id

    def place_message(self, thread_id: int, role: str, text: str) -> int:
        """Put a user or assistant message into a thread by hand, to set up a situation: logged like
        any other (complete, with no run and no version), marked placed, and sent with the next turn.

        Raises ValueError, in one sentence, for another role, empty text, or while the thread cannot
        take one: a reply is being written, or the model waits for function outputs (the message
        would land between the calls and their answers). LookupError for another owner's thread.
        """
        if role not in ("user", "assistant"):
            raise ValueError("A placed message is the user's or the assistant's.")
        if not text.strip():
            raise ValueError("Type the message to place.")
        now = time.time()
        with self.write() as db:
            self._check(db, "thread", thread_id)
            # Checked in the write transaction: no turn can start or end between the check and the insert.
            last = db.value(
                "SELECT status FROM runs WHERE thread_id = :id AND status IN ('in_progress', 'completed', "
                "'requires_action') ORDER BY (status = 'in_progress') DESC, id DESC LIMIT 1",
                {"id": thread_id},
            )
            if last == "in_progress":
                raise ValueError("A reply is being written: place the message once it has ended.")
            if last == "requires_action":
                raise ValueError("The model is waiting for function outputs: answer them before placing a message.")
            message = {
                "thread_id": thread_id,
                "role": role,
                "content": text,
                "status": "complete",
                "created_at": now,
                "placed": 1,
            }
            message_id = db.insert("messages", message)
            _touch_thread(db, thread_id, now, role, text)
        return message_id

    def get_message(self, message_id: int) -> Message | None:
        rows = self._messages("m.id = :message_id", {"message_id": message_id})
        return rows[0] if rows else None

    def list_messages(self, thread_id: int, limit: int | None = None) -> list[Message]:
        """A thread's messages in order; with `limit`, only the newest that many."""
        if limit:
            return self._messages(
                "m.thread_id = :thread_id AND m.id IN "
                "(SELECT id FROM messages WHERE thread_id = :thread_id ORDER BY id DESC LIMIT :limit)",
                {"thread_id": thread_id, "limit": limit},
            )
        return self._messages("m.thread_id = :thread_id", {"thread_id": thread_id})

    def count_messages(self, thread_id: int) -> int:
        """How many messages the thread holds (0 for another owner's thread: it has none of this owner's)."""
        with self.db() as db:
            if not self._owns(db, "thread", thread_id):
                return 0
            return int(db.value("SELECT COUNT(*) FROM messages WHERE thread_id = :id", {"id": thread_id}))

    def _messages(self, where: str, params: dict[str, Any]) -> list[Message]:
        mine, owner = self._threads_mine()
        sql = f"""
            SELECT {MESSAGE_COLUMNS}
            FROM messages m
            JOIN threads t ON t.id = m.thread_id
            JOIN assistants a ON a.id = t.assistant_id AND {mine}
            LEFT JOIN assistant_versions v ON v.id = m.version_id
            LEFT JOIN runs r ON r.id = m.run_id
            WHERE {where} ORDER BY m.id
        """
        with self.db() as db:
            return [_placed(m) for m in _from_rows(Message, db.rows(sql, {**owner, **params}))]

    def start_run(
        self, thread_id: int, version_id: int | None, user_message_id: int, model: str, *, attempt: bool = False
    ) -> int:
        """A run in progress. With `attempt`, in the same transaction, the user message points at it as
        its latest attempt and reads as not yet answered (a retry reuses the row). The run holds a lease
        from now (see `hold_lease`)."""
        with self.write() as db:
            self._check(db, "thread", thread_id)
            self._check(db, "version", version_id, seeing=True)
            if attempt:  # the message is written to: it must be this owner's (else it is only a reference)
                self._check(db, "message", user_message_id)
            run_id = _start_run(db, thread_id, version_id, user_message_id, model, time.time())
            if attempt:
                db.execute(
                    "UPDATE messages SET run_id = :run, status = 'incomplete' WHERE id = :id",
                    {"run": run_id, "id": user_message_id},
                )
        return run_id

    def start_turn(self, thread_id: int, text: str, version_id: int | None, model: str) -> tuple[int, int]:
        """The user's message and its run in progress, in one transaction: (message id, run id).
        A log that refuses the run keeps no message either, so sending again never makes a copy."""
        now = time.time()
        with self.write() as db:
            self._check(db, "thread", thread_id)
            self._check(db, "version", version_id, seeing=True)
            message = db.insert(
                "messages",
                {
                    "thread_id": thread_id,
                    "role": "user",
                    "content": text,
                    "version_id": version_id,
                    "status": "incomplete",
                    "created_at": now,
                },
            )
            _touch_thread(db, thread_id, now, "user", text)
            run = _start_run(db, thread_id, version_id, message, model, now)
            db.execute("UPDATE messages SET run_id = :run WHERE id = :id", {"run": run, "id": message})
        return message, run

    def update_run(self, run_id: int, **columns: Any) -> None:
        if not columns:
            return
        assignments = _run_assignments(columns)
        with self.write() as db:
            self._check(db, "run", run_id)
            db.execute(f"UPDATE runs SET {assignments} WHERE id = :where_id", {**columns, "where_id": run_id})

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
        tool_calls: Sequence[tuple[str, str, str, list[str]]] = (),
        answered: tuple[int, dict[str, tuple[str, str]]] | None = None,
        **run_fields: Any,
    ) -> int | None:
        """Close a turn in one transaction: the reply, its function calls, the outputs it handed the
        model (`answered`: the earlier run and its call_id → (output, source)), the user message's
        status and the run, and its lease ends. A crash mid-way leaves none of it, never a reply without
        its calls. A run already closed (see `_may_finish`) is left as it is: None, and nothing written."""
        now = time.time()
        reply_id = None
        run_fields["finished_at"] = now
        assignments = _run_assignments(run_fields)
        with self.write() as db:
            self._check(db, "run", run_id)
            self._check(db, "thread", thread_id)
            self._check(db, "message", user_message_id)
            self._check(db, "version", version_id, seeing=True)
            if not self._may_finish(db, run_id, thread_id):
                logger.warning("run %s was closed by another process while it ran; its end is not logged", run_id)
                return None
            if answered is not None:
                self._check(db, "run", answered[0])
                self._set_tool_outputs(db, *answered, answered_at=now)
            db.execute(
                "UPDATE messages SET status = :status WHERE id = :id", {"status": user_status, "id": user_message_id}
            )
            if reply is not None:
                reply_id = db.insert(
                    "messages",
                    {
                        "thread_id": thread_id,
                        "role": "assistant",
                        "content": reply,
                        "version_id": version_id,
                        "run_id": run_id,
                        "status": reply_status,
                        "created_at": now,
                    },
                )
            self._insert_tool_calls(db, run_id, thread_id, tool_calls, now)
            db.execute(
                f"UPDATE runs SET {assignments}, lease_until = NULL WHERE id = :where_id",
                {**run_fields, "where_id": run_id},
            )
            db.execute("UPDATE threads SET updated_at = :now WHERE id = :id", {"now": now, "id": thread_id})
        return reply_id

    @staticmethod
    def _may_finish(db: engine.Db, run_id: int, thread_id: int) -> bool:
        """Whether a turn's end may be written, in its closing transaction: yes while its run is in
        progress. A run recovered by a sweep while its process still lived (stalled past its lease) takes
        its real end instead, the recovered copy of its partial reply dropped, unless the thread moved on
        since (a later run, or a message placed): then the recovery stands. Any other end is final."""
        rows = db.rows("SELECT status, problem, finished_at FROM runs WHERE id = :id", {"id": run_id})
        if not rows or rows[0]["status"] == "in_progress":
            return True
        if rows[0]["problem"] != "interrupted":
            return False
        later = db.value(
            "SELECT 1 FROM runs WHERE thread_id = :thread AND id > :run "
            "UNION ALL SELECT 1 FROM messages WHERE thread_id = :thread AND created_at >= :ended LIMIT 1",
            {"thread": thread_id, "run": run_id, "ended": rows[0]["finished_at"]},
        )
        if later:
            return False
        db.execute("DELETE FROM messages WHERE run_id = :id AND role = 'assistant'", {"id": run_id})
        return True

    def get_run(self, run_id: int) -> Run | None:
        """A run of this owner's (None for another owner's: a run id from a session is not trusted)."""
        with self.db() as db:
            row = self._one(db, "run", run_id, _columns(Run))
        return Run.from_row(row) if row else None

    def list_runs(self, thread_id: int, from_id: int = 0, *, bodies: bool = True) -> list[Run]:
        """The thread's runs, oldest first; from run `from_id` on (the chat reads only what it draws).
        None of another owner's thread. `bodies=False` leaves out each run's request and response JSON
        (None): a chat-way request carries the whole thread so far, so reading every run's grows with
        the square of the thread (96 of a turn's 129 ms of store time at 1,000 messages,
        bench/store_speed.py) where only the outcomes are wanted."""
        left_out = () if bodies else ("request", "response")
        with self.db() as db:
            if not self._owns(db, "thread", thread_id):
                return []
            rows = db.rows(
                f"SELECT {_columns(Run, 'r', leave_out=left_out)} FROM runs r "
                "WHERE r.thread_id = :thread AND r.id >= :from_id ORDER BY r.id",
                {"thread": thread_id, "from_id": from_id},
            )
            return _from_rows(Run, rows, **dict.fromkeys(left_out))

    # Leases and their recovery are process-level, outside the ownership rule: a process renews the runs
    # it runs and recovers those whose process died, whoever's they are (a dead process's turns have no
    # session left to ask), so these methods take no owner and read no other row than the runs'.

    def recover_expired_runs(self, spare: Collection[int] = ()) -> int:
        """Close the runs whose lease ran out (their process died): incomplete, their message retryable,
        the reply's last checkpoint an incomplete assistant message, as if the stream had cut. Runs in
        `spare` (this process's own turns) are left alone. Returns how many were closed.

        One write transaction picks the runs under the write lock, so two processes sweeping at once
        recover each run once. It writes even when none expired: at open, that is what finds a log that
        cannot be written (SQLite refuses a write statement there, not BEGIN IMMEDIATE nor a read).
        """
        with self.write() as db:
            ids = [r[0] for r in db.execute(f"SELECT id FROM runs WHERE {_EXPIRED}") if r[0] not in spare]
            if not ids:
                db.execute("UPDATE runs SET lease_until = NULL WHERE 0")  # a write, touching nothing
                return 0
            db.execute(
                "INSERT INTO messages (thread_id, role, content, version_id, run_id, status, created_at) "
                "SELECT thread_id, 'assistant', partial, version_id, id, 'incomplete', created_at "
                "FROM runs WHERE id IN :ids AND partial != ''",
                {"ids": ids},
            )
            # The user messages whose latest attempt these runs were (found by key, not by a scan).
            db.execute(
                "UPDATE messages SET status = 'failed' WHERE role = 'user' "
                "AND id IN (SELECT user_message_id FROM runs WHERE id IN :ids) AND run_id IN :ids",
                {"ids": ids},
            )
            db.execute(
                "UPDATE runs SET status = 'incomplete', problem = 'interrupted', error = COALESCE(error, "
                "'Interrupted: the app stopped during this turn. Retry to send it again.'), finished_at = :now, "
                "lease_until = NULL WHERE id IN :ids",
                {"now": time.time(), "ids": ids},
            )
        return len(ids)

    def any_expired_runs(self) -> bool:
        """Whether a run's lease has run out: a read, for the sweeps that run often."""
        with self.db() as db:
            return db.value(f"SELECT 1 FROM runs WHERE {_EXPIRED} LIMIT 1") is not None

    def renew_leases(self, run_ids: Collection[int]) -> int:
        """Extend the leases of these runs, those still in progress, to a lease from now. Returns how many."""
        if not run_ids:
            return 0
        with self.write() as db:
            cur = db.execute(
                f"UPDATE runs SET lease_until = {DB_NOW} + :lease WHERE status = 'in_progress' AND id IN :ids",
                {"lease": settings.run_lease_s(), "ids": list(run_ids)},
            )
        return cur.rowcount

    def hold_lease(self, run_id: int) -> None:
        """This process runs the turn of `run_id`: its lease is renewed every third of a lease, whether
        text arrives or not, until `release_lease`; this process's sweeps never recover it."""
        _keep_leases(self).hold(run_id)

    def release_lease(self, run_id: int) -> None:
        """The turn has settled (or could not be): its lease is renewed no more."""
        _keep_leases(self).release(run_id)

    def forget_empty_sessions(self, before: float) -> int:
        """Delete untouched assistants that anonymous sessions made before `before`.

        Every visitor without a key gets a blank assistant to shape; a session's state dies with
        its process, so one left blank (no version, no thread, the default draft) can never be
        reached again. Anything the visitor did edit is kept. Another app process on the log may
        still be showing a recent one to its session, so the open passes a day ago, not its start.

        Process-level, outside the ownership rule: it runs at open over every anonymous session's
        assistants, which no session (and no owner of this Store) can reach any more.
        """
        blank = AssistantConfig().to_json()
        with self.write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT a.id FROM assistants a JOIN drafts d ON d.assistant_id = a.id "
                    "WHERE a.owner LIKE 'session:%' AND a.created_at < :before AND d.config = :blank "
                    "AND d.unsent IS NULL "
                    "AND NOT EXISTS (SELECT 1 FROM assistant_versions v WHERE v.assistant_id = a.id) "
                    "AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.assistant_id = a.id)",
                    {"before": before, "blank": blank},
                )
            ]
            for table, column in (("drafts", "assistant_id"), ("assistants", "id")):
                db.execute(f"DELETE FROM {table} WHERE {column} IN :ids", {"ids": ids})
        return len(ids)

    def checkpoint(self, run_id: int, partial: str) -> None:
        """Keep the reply streamed so far; recovered if the process dies before the turn ends."""
        with self.write() as db:
            self._check(db, "run", run_id)
            db.execute(
                "UPDATE runs SET partial = :partial WHERE id = :id AND status = 'in_progress'",
                {"partial": partial, "id": run_id},
            )

    # -- function calls -----------------------------------------------------------------------

    def add_tool_calls(self, run_id: int, thread_id: int, calls: list[tuple[str, str, str, list[str]]]) -> None:
        """Record the calls a turn ended with: (call_id, name, arguments, problems with the arguments)."""
        with self.write() as db:
            self._check(db, "run", run_id)
            self._check(db, "thread", thread_id)
            self._insert_tool_calls(db, run_id, thread_id, calls, time.time())

    @staticmethod
    def _insert_tool_calls(
        db: engine.Db,
        run_id: int,
        thread_id: int,
        calls: Sequence[tuple[str, str, str, list[str]]],
        now: float,
    ) -> None:
        for call_id, name, arguments, problems in calls:
            row = {
                "run_id": run_id,
                "thread_id": thread_id,
                "call_id": call_id,
                "name": name,
                "arguments": arguments,
                "problems": json.dumps(problems),
                "created_at": now,
            }
            db.insert("tool_calls", row)

    def tool_calls(self, run_id: int) -> list[ToolCallRow]:
        """The run's function calls, oldest first; none of another owner's run."""
        with self.db() as db:
            if not self._owns(db, "run", run_id):
                return []
            sql = f"SELECT {_columns(ToolCallRow, 'c')} FROM tool_calls c WHERE c.run_id = :id ORDER BY c.id"
            return [ToolCallRow.from_row(r) for r in db.rows(sql, {"id": run_id})]

    def thread_tool_calls(self, thread_id: int, since: float = 0.0) -> list[ToolCallRow]:
        """The thread's function calls logged at or after `since`, oldest first; none of another owner's."""
        with self.db() as db:
            if not self._owns(db, "thread", thread_id):
                return []
            sql = (
                f"SELECT {_columns(ToolCallRow, 'c')} FROM tool_calls c "
                "WHERE c.thread_id = :id AND c.created_at >= :since ORDER BY c.id"
            )
            return [ToolCallRow.from_row(r) for r in db.rows(sql, {"id": thread_id, "since": since})]

    def set_tool_outputs(self, run_id: int, outputs: dict[str, tuple[str, str]], *, answered: bool) -> None:
        """Keep each call's output (call_id → (output, source)); `answered` once the model has it."""
        with self.write() as db:
            self._check(db, "run", run_id)
            self._set_tool_outputs(db, run_id, outputs, answered_at=time.time() if answered else None)

    @staticmethod
    def _set_tool_outputs(
        db: engine.Db, run_id: int, outputs: dict[str, tuple[str, str]], *, answered_at: float | None
    ) -> None:
        for call_id, (output, source) in outputs.items():
            db.execute(
                "UPDATE tool_calls SET output = :output, source = :source, status = :status, answered_at = :at "
                "WHERE run_id = :run AND call_id = :call",
                {
                    "output": output,
                    "source": source,
                    "status": "pending" if answered_at is None else "answered",
                    "at": answered_at,
                    "run": run_id,
                    "call": call_id,
                },
            )

    def running_run(self, thread_id: int) -> int | None:
        """The thread's turn still in progress (streaming, or being closed), if any.

        One whose lease ran out lost its process: it is recovered here and then (so a page waiting for a
        turn of another process sees it end), and is no longer running; on a read-only log it is only
        not running. While the log refuses the recovery (locked), it still reads as running.
        """
        row = self._newest_in_progress(thread_id)
        if row is None:
            return None
        run_id, expired = row
        held = _held_here(self.path)
        if not expired or run_id in held:
            return run_id
        if self.read_only:
            return None
        try:  # the recovery is process-level (see `recover_expired_runs`); the thread was checked above
            self.recover_expired_runs(spare=held)
        except LogError:
            return run_id
        row = self._newest_in_progress(thread_id)
        return row[0] if row else None

    def _newest_in_progress(self, thread_id: int) -> tuple[int, bool] | None:
        """The thread's newest run in progress, and whether its lease has run out (None: none, or
        another owner's thread)."""
        with self.db() as db:
            if not self._owns(db, "thread", thread_id):
                return None
            rows = db.rows(
                f"SELECT r.id, r.lease_until IS NULL OR r.lease_until < {DB_NOW} AS expired FROM runs r "
                "WHERE r.thread_id = :id AND r.status = 'in_progress' ORDER BY r.id DESC LIMIT 1",
                {"id": thread_id},
            )
        return (rows[0]["id"], bool(rows[0]["expired"])) if rows else None

    def pending_run(self, thread_id: int) -> int | None:
        """The thread's newest run if it is waiting for function outputs (it survives a reload)."""
        # A failed attempt to answer leaves the calls pending, so look past failed runs.
        with self.db() as db:
            if not self._owns(db, "thread", thread_id):
                return None
            row = db.execute(
                "SELECT id, status FROM runs WHERE thread_id = :id AND status IN ('completed', 'requires_action') "
                "ORDER BY id DESC LIMIT 1",
                {"id": thread_id},
            ).fetchone()
        return row[0] if row and row[1] == "requires_action" else None

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, every owner's (for tests and a whole-file backup): outside the rule."""
        with self.db() as db:
            tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid").scalars()
            return {name: db.rows(f'SELECT * FROM "{name}"') for name in list(tables)}

    # -- files and vector stores --------------------------------------------------------------

    def add_vector_store(self, vector_store_id: str, name: str) -> None:
        """Keep a vector store made or picked here; one the log already keeps is left as it is. The id
        is upstream's, and one upstream account can be reached from two owners (a key typed in the
        sidebar and the same key as the deployment's), so a store another owner keeps stays theirs,
        untouched, with no error: the page that picked it goes on using it upstream."""
        with self.write() as db:
            if db.value("SELECT 1 FROM vector_stores WHERE id = :id", {"id": vector_store_id}):
                return
            row = {"id": vector_store_id, "owner": self.owner, "name": name, "created_at": time.time()}
            db.insert("vector_stores", row)

    def list_vector_stores(self) -> list[dict[str, Any]]:
        mine, params = self._mine("s")
        with self.db() as db:
            sql = f"SELECT s.id, s.name, s.created_at FROM vector_stores s WHERE {mine} ORDER BY s.created_at DESC"
            return [dict(r) for r in db.rows(sql, params)]

    def add_file(
        self,
        file_id: str,
        filename: str,
        size: int,
        purpose: str,
        *,
        vector_store_id: str | None = None,
        status: str = "uploaded",
    ) -> int:
        row = {
            "owner": self.owner,
            "file_id": file_id,
            "filename": filename,
            "bytes": size,
            "purpose": purpose,
            "vector_store_id": vector_store_id,
            "status": status,
            "created_at": time.time(),
        }
        with self.write() as db:
            return db.insert("files", row)

    def set_file_status(self, row_id: int, status: str, error: str | None = None) -> None:
        """LookupError for another owner's file (or one removed), nothing written."""
        with self.write() as db:
            self._check(db, "file", row_id)
            db.execute(
                "UPDATE files SET status = :status, error = :error WHERE id = :id",
                {"status": status, "error": error, "id": row_id},
            )

    def list_files(self, purpose: str | None = None, vector_store_id: str | None = None) -> list[FileRow]:
        mine, params = self._mine("f")
        where = [mine]
        if purpose:
            where.append("f.purpose = :purpose")
            params["purpose"] = purpose
        if vector_store_id:
            where.append("f.vector_store_id = :store")
            params["store"] = vector_store_id
        sql = f"SELECT {_columns(FileRow, 'f')} FROM files f WHERE {' AND '.join(where)} ORDER BY f.id"
        with self.db() as db:
            return [FileRow.from_row(r) for r in db.rows(sql, params)]

    def filenames(self) -> dict[str, str]:
        """Upstream file id → the name it was uploaded with (the API's citations may lack it)."""
        mine, params = self._mine("f")
        with self.db() as db:
            return {
                r["file_id"]: r["filename"]
                for r in db.rows(f"SELECT file_id, filename FROM files f WHERE {mine}", params)
            }

    def remove_file(self, row_id: int) -> None:
        """Forget an uploaded file. LookupError for another owner's; one already gone is no error
        (two tabs removing it at once)."""
        with self.write() as db:
            if db.value("SELECT 1 FROM files WHERE id = :id", {"id": row_id}):
                self._check(db, "file", row_id)
            db.execute("DELETE FROM files WHERE id = :id", {"id": row_id})

    def add_run_files(self, run_id: int, files: list[tuple[str | None, str, str, bytes | None, str | None]]) -> None:
        """Keep the files a turn generated: (container_id, file_id, filename, content, error)."""
        now = time.time()
        with self.write() as db:
            self._check(db, "run", run_id)
            for container_id, file_id, filename, content, error in files:
                row = {
                    "run_id": run_id,
                    "container_id": container_id,
                    "file_id": file_id,
                    "filename": filename,
                    "content": content,
                    "error": error,
                    "created_at": now,
                }
                db.insert("run_files", row)

    def run_files(self, run_ids: list[int]) -> list[RunFile]:
        """The files these runs generated (their content's size only), those of this owner's runs."""
        if not run_ids:
            return []
        size = "COALESCE(length(f.content), 0) AS size"
        with self.db() as db:
            mine = self._owned_ids(db, "run", run_ids)
            sql = (
                f"SELECT {_columns(RunFile, 'f', leave_out={'size'})}, {size} FROM run_files f "
                "WHERE f.run_id IN :ids ORDER BY f.id"
            )
            return [RunFile.from_row(r) for r in db.rows(sql, {"ids": mine})]

    def run_file_content(self, run_file_id: int) -> bytes:
        """A generated file's bytes (empty for another owner's, or one whose fetch failed)."""
        with self.db() as db:
            row = self._one(db, "run_file", run_file_id, "content")
        return bytes(row["content"]) if row and row["content"] is not None else b""

    # -- the log: conversations, search, usage ------------------------------------------------

    def conversations(
        self,
        *,
        query: str | None = None,
        assistant_id: int | None = None,
        version_id: int | None = None,
        model: str | None = None,
        since: float | None = None,
        until: float | None = None,
        thread_ids: list[int] | None = None,
        limit: int = LISTED,
        kinds: tuple[str, ...] | None = ("chat",),
    ) -> list[dict[str, Any]]:
        """Threads with their assistant, versions, turns, tokens per model and activity, newest first.

        `query` keeps the threads with a message matching it (full-text search, in SQL with the
        other filters, so a filtered search never misses a thread); `conversation_ids` counts them all.
        `kinds` keeps the threads made that way: chat only by default, None for every kind (replays,
        compares and evaluations make threads too).
        """
        where, params = self._thread_where(query, assistant_id, version_id, model, since, until, thread_ids, kinds)
        sql = f"""
            SELECT t.id, t.title, t.assistant_id, {_seen_name("a", "a.owner = :owner")} AS assistant, t.conversation_id,
                   t.created_at AS started, t.updated_at AS last_activity, t.kind
            FROM threads t JOIN assistants a ON a.id = t.assistant_id
            WHERE {where}
            ORDER BY t.updated_at DESC, t.id DESC LIMIT :limit
        """
        with self.db() as db:
            threads = db.rows(sql, {**params, "limit": limit})
            ids = {"ids": [t["id"] for t in threads]}
            if not ids["ids"]:
                return []
            turns: dict[int, int] = {
                thread_id: count
                for thread_id, count in db.execute(
                    "SELECT thread_id, COUNT(*) FROM messages WHERE role = 'user' AND thread_id IN :ids "
                    "GROUP BY thread_id",
                    ids,
                )
            }
            versions: dict[int, list[int]] = {}
            for thread_id, number in db.execute(
                "SELECT DISTINCT m.thread_id, v.number FROM messages m JOIN assistant_versions v "
                "ON v.id = m.version_id WHERE m.thread_id IN :ids ORDER BY v.number",
                ids,
            ):
                versions.setdefault(thread_id, []).append(number)
            tokens: dict[int, list[tuple[str, int, int]]] = {}
            runs_usage: dict[int, list[tuple[str, int, int, int, int]]] = {}
            for thread_id, run_model, runs, unknown, inp, out in db.execute(
                f"SELECT thread_id, model, {_usage_columns()} FROM runs WHERE thread_id IN :ids "
                "GROUP BY thread_id, model",
                ids,
            ):
                tokens.setdefault(thread_id, []).append((run_model, inp, out))
                runs_usage.setdefault(thread_id, []).append((run_model, runs, unknown, inp, out))
        for t in threads:
            t["turns"] = turns.get(t["id"], 0)
            t["versions"] = versions.get(t["id"], [])
            t["tokens_by_model"] = tokens.get(t["id"], [])  # (model, input, output) of runs with known usage
            t["usage_by_model"] = runs_usage.get(t["id"], [])  # usage.ModelUsage rows, unknown runs counted
        return threads

    def search(
        self, query: str, limit: int = 50, thread_ids: list[int] | None = None, per_thread: int = 1
    ) -> list[dict[str, Any]]:
        """Messages matching every word of `query` (the last one as a prefix), best first.

        With `thread_ids`: the first `per_thread` matches of each of those threads, in their order (the
        snippets under a listed page); read from the threads' messages, a few ms however common the words.
        """
        match = fts_query(query)
        if not match or thread_ids == []:
            return []
        mine, owner = self._threads_mine()
        columns = f"""m.thread_id, m.id AS message_id, m.role, m.created_at, t.title,
                   {_seen_name("a", "a.owner = :owner")} AS assistant,
                   snippet(messages_fts, 0, '**', '**', '…', 16) AS snippet"""
        if thread_ids is not None:
            sql = f"""
                SELECT {columns}
                FROM messages m
                JOIN messages_fts ON messages_fts.rowid = m.id
                JOIN threads t ON t.id = m.thread_id
                JOIN assistants a ON a.id = t.assistant_id AND {mine}
                WHERE m.thread_id IN :ids AND messages_fts MATCH :match
                ORDER BY m.thread_id, m.id LIMIT :limit
            """
            with self.db() as db:
                rows = db.rows(sql, {**owner, "ids": thread_ids, "match": match, "limit": self.MAX_SNIPPET_ROWS})
            kept: dict[int, list[dict[str, Any]]] = {}
            for hit in rows:
                if len(kept.setdefault(hit["thread_id"], [])) < per_thread:
                    kept[hit["thread_id"]].append(hit)
            return [hit for thread_id in thread_ids for hit in kept.get(thread_id, [])][:limit]
        sql = f"""
            SELECT {columns}
            FROM messages_fts
            JOIN messages m ON m.id = messages_fts.rowid
            JOIN threads t ON t.id = m.thread_id
            JOIN assistants a ON a.id = t.assistant_id AND {mine}
            WHERE messages_fts MATCH :match AND messages_fts.rowid >= COALESCE(
                (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match
                 ORDER BY rowid DESC LIMIT 1 OFFSET :window), 0)
            ORDER BY rank LIMIT :limit
        """
        # Ranking every match of a very common word costs ~100 ms per 100k messages; rank only the
        # newest RANK_WINDOW matches (bench/log_scale.py).
        with self.db() as db:
            return db.rows(sql, {**owner, "match": match, "window": RANK_WINDOW - 1, "limit": limit})

    def usage_by_assistant(self) -> dict[int, dict[str, Any]]:
        """Per assistant: finished runs and tokens per model, summed in SQL (the Assistants table).
        Tokens are those of the runs whose usage is known; `unknown_runs` counts the others."""
        mine, params = self._threads_mine()
        sql = f"""
            SELECT t.assistant_id, r.model, {_usage_columns("r.")}
            FROM runs r JOIN threads t ON t.id = r.thread_id
            JOIN assistants a ON a.id = t.assistant_id AND {mine}
            WHERE r.status != 'in_progress' GROUP BY t.assistant_id, r.model
        """
        out: dict[int, dict[str, Any]] = {}
        with self.db() as db:
            for assistant_id, model, runs, unknown, inp, outp in db.execute(sql, params):
                row = out.setdefault(
                    assistant_id, {"runs": 0, "tokens": 0, "unknown_runs": 0, "by_model": [], "usage_by_model": []}
                )
                row["runs"] += runs
                row["tokens"] += inp + outp
                row["unknown_runs"] += unknown
                row["by_model"].append((model, inp, outp))
                row["usage_by_model"].append((model, runs, unknown, inp, outp))
        return out

    def models(self) -> list[str]:
        """The models this owner's runs used (for filters), from the runs_model index."""
        mine, params = self._threads_mine()
        sql = f"""
            SELECT m.model FROM (SELECT DISTINCT model FROM runs WHERE model != '') m
            WHERE EXISTS (SELECT 1 FROM runs r JOIN threads t ON t.id = r.thread_id
                          JOIN assistants a ON a.id = t.assistant_id
                          WHERE r.model = m.model AND {mine})
            ORDER BY m.model
        """
        with self.db() as db:
            return [r[0] for r in db.execute(sql, params)]

    def delete_thread(self, thread_id: int) -> None:
        """Remove a thread and everything logged under it."""
        with self.write() as db:
            self._check(db, "thread", thread_id)
            _delete_threads(db, [thread_id])

    def usage(self, since: float | None = None) -> list[dict[str, Any]]:
        """Every finished run with its assistant, version, model, tokens and timings."""
        mine, params = self._threads_mine()
        sql = f"""
            SELECT r.id, r.created_at, r.status, r.model, r.input_tokens, r.output_tokens, r.total_tokens,
                   r.ttft_ms, r.latency_ms, t.assistant_id, {_seen_name("a", "a.owner = :owner")} AS assistant,
                   v.number AS version
            FROM runs r
            JOIN threads t ON t.id = r.thread_id
            JOIN assistants a ON a.id = t.assistant_id AND {mine}
            LEFT JOIN assistant_versions v ON v.id = r.version_id
            WHERE r.status != 'in_progress' AND r.created_at >= :since
            ORDER BY r.id
        """
        with self.db() as db:
            return db.rows(sql, {**params, "since": since or 0})

    # -- test sets and replays ----------------------------------------------------------------

    def create_test_set(
        self,
        name: str,
        inputs: list[str],
        mode: str = "separate",
        source_thread_id: int | None = None,
        sources: Sequence[int | None] | None = None,
        cases: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        """A named list of inputs; `sources` gives the thread each input came from (None: by hand).
        `cases` (dicts as `add_cases` takes them: an import) follow the inputs, in the same transaction,
        so a refused import leaves no empty set behind. LookupError if a source is another owner's thread."""
        sources = list(sources) if sources is not None else [source_thread_id] * len(inputs)
        if len(sources) != len(inputs):
            raise ValueError("One source per input.")
        cases = list(cases)
        with self.write() as db:
            self._check(db, "thread", *{source_thread_id, *sources, *(c.get("source_thread_id") for c in cases)})
            row = {
                "owner": self.owner,
                "name": name,
                "mode": mode,
                "source_thread_id": source_thread_id,
                "created_at": time.time(),
            }
            set_id = db.insert("test_sets", row)
            for position, (text, source) in enumerate(zip(inputs, sources, strict=True)):
                case = {"set_id": set_id, "position": position, "input": text, "source_thread_id": source}
                db.insert("test_cases", case)
            _add_cases(db, set_id, cases)
        return set_id

    def list_test_sets(self) -> list[dict[str, Any]]:
        mine, params = self._mine("s")
        sql = f"""
            SELECT s.id, s.name, s.mode, s.source_thread_id, s.created_at,
                   (SELECT COUNT(*) FROM test_cases c WHERE c.set_id = s.id AND c.deleted_at IS NULL) AS cases,
                   (SELECT COUNT(DISTINCT c.source_thread_id) FROM test_cases c
                     WHERE c.set_id = s.id AND c.deleted_at IS NULL) AS sources,
                   (SELECT COUNT(*) FROM replays r WHERE r.set_id = s.id) AS replays
            FROM test_sets s WHERE {mine} ORDER BY s.id DESC
        """
        with self.db() as db:
            return [dict(r) for r in db.rows(sql, params)]

    def get_test_set(self, set_id: int) -> dict[str, Any] | None:
        """The set's row (its `graders` as the JSON text of a testing_criteria list)."""
        with self.db() as db:
            return self._one(db, "test_set", set_id)

    def find_test_set(self, name: str) -> dict[str, Any] | None:
        """This owner's newest test set of that name (the command line names sets)."""
        mine, params = self._mine("s")
        with self.db() as db:
            rows = db.rows(
                f"SELECT s.* FROM test_sets s WHERE {mine} AND s.name = :name ORDER BY s.id DESC LIMIT 1",
                {**params, "name": name},
            )
        return rows[0] if rows else None

    CASE_COLUMNS = "c.id, c.set_id, c.position, c.input, c.expected, c.variables, c.tags, c.source_thread_id"

    def test_cases(self, set_id: int, *, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The set's cases in order (deleted ones left out), `limit` of them from `offset` (a page of a
        long set); `variables` a dict, `tags` a list. LookupError for another owner's set."""
        page = " LIMIT :limit OFFSET :offset" if limit is not None else ""
        with self.db() as db:
            self._check(db, "test_set", set_id)
            rows = db.rows(
                f"SELECT {self.CASE_COLUMNS} FROM test_cases c WHERE c.set_id = :id AND c.deleted_at IS NULL "
                f"ORDER BY c.position, c.id{page}",
                {"id": set_id, "limit": limit, "offset": offset},
            )
        return [_case(r) for r in rows]

    def count_cases(self, set_id: int) -> int:
        with self.db() as db:
            self._check(db, "test_set", set_id)
            return int(
                db.value("SELECT COUNT(*) FROM test_cases WHERE set_id = :id AND deleted_at IS NULL", {"id": set_id})
            )

    def add_cases(self, set_id: int, cases: Iterable[Mapping[str, Any]]) -> int:
        """Append cases (dicts: input, and optionally expected, variables, tags) to the set, in one
        transaction: an import lands whole or not at all. Returns how many."""
        cases = list(cases)
        with self.write() as db:
            self._check(db, "test_set", set_id)
            self._check(db, "thread", *{c.get("source_thread_id") for c in cases})
            return _add_cases(db, set_id, cases)

    def update_case(self, case_id: int, case: Mapping[str, Any]) -> None:
        """Change a case's input, expected output, variables and tags (those keys given)."""
        fields = {k: v for k, v in _case_row(0, 0, {"input": "-", **case}).items() if k in case}
        if not fields:
            return
        assignments = ", ".join(f"{k} = :{k}" for k in fields)
        with self.write() as db:
            self._check(db, "test_case", case_id)
            self._check(db, "thread", fields.get("source_thread_id"))
            db.execute(f"UPDATE test_cases SET {assignments} WHERE id = :where_id", {**fields, "where_id": case_id})

    def delete_cases(self, case_ids: Sequence[int]) -> None:
        """Take cases out of their set. Kept in the log, marked deleted: earlier runs' results show them."""
        with self.write() as db:
            self._check(db, "test_case", *case_ids)
            db.execute(
                "UPDATE test_cases SET deleted_at = :now WHERE id IN :ids", {"now": time.time(), "ids": list(case_ids)}
            )

    def duplicate_case(self, case_id: int) -> int:
        """A copy of the case at the end of its set; returns the copy's id."""
        with self.write() as db:
            self._check(db, "test_case", case_id)
            [row] = db.rows(f"SELECT {self.CASE_COLUMNS} FROM test_cases c WHERE c.id = :id", {"id": case_id})
            position = db.value("SELECT MAX(position) + 1 FROM test_cases WHERE set_id = :id", {"id": row["set_id"]})
            copy = {**row, "position": position}
            del copy["id"]
            return db.insert("test_cases", copy)

    def set_graders(self, set_id: int, criteria: str) -> None:
        """Keep the set's graders: the JSON text of a testing_criteria list, checked by the caller."""
        with self.write() as db:
            self._check(db, "test_set", set_id)
            db.execute("UPDATE test_sets SET graders = :g WHERE id = :id", {"g": criteria, "id": set_id})

    def start_replay(self, set_id: int, version_id: int, *, graders: str = "[]", concurrency: int = 1) -> int:
        """A run of the set on a version, with the graders it runs (testing_criteria JSON) and how many
        cases at once; running, with a heartbeat from now (see `beat_replay`)."""
        with self.write() as db:
            self._check(db, "test_set", set_id)
            self._check(db, "version", version_id, seeing=True)
            row = {
                "set_id": set_id,
                "version_id": version_id,
                "status": "running",
                "created_at": time.time(),
                "graders": graders,
                "concurrency": concurrency,
            }
            replay_id = db.insert("replays", row)
            _beat(db, replay_id)
            return replay_id

    RESULT_COLUMNS = frozenset(
        {"thread_id", "run_id", "output", "status", "total_tokens", "latency_ms", "error"}
        | {"input_tokens", "output_tokens", "model", "verdicts", "passed", "score"}
    )

    def add_replay_result(self, replay_id: int, case_id: int, **columns: Any) -> bool:
        """One case's result, once: a second result for the same case of the same run is not written
        (False), so a resumed run never counts a case twice. The replay, the case (of the replay's set),
        and the thread and run it made must be this owner's: LookupError otherwise, nothing written."""
        unknown = set(columns) - self.RESULT_COLUMNS
        if unknown:
            raise ValueError(f"Unknown replay result fields: {sorted(unknown)}")
        row = {"replay_id": replay_id, "case_id": case_id, **columns}
        with self.write() as db:
            self._check(db, "replay", replay_id)
            self._check(db, "test_case", case_id)
            self._check(db, "thread", columns.get("thread_id"))
            self._check(db, "run", columns.get("run_id"))
            written = db.execute(
                f"INSERT INTO replay_results ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) "
                "ON CONFLICT (replay_id, case_id) DO NOTHING",
                row,
            ).rowcount
        return bool(written)

    def replay_done_cases(self, replay_id: int) -> set[int]:
        """The cases a run has a result for (a resumed run does the rest)."""
        with self.db() as db:
            if not self._owns(db, "replay", replay_id):
                return set()
            return set(
                db.execute("SELECT case_id FROM replay_results WHERE replay_id = :id", {"id": replay_id}).scalars()
            )

    def beat_replay(self, replay_id: int) -> None:
        """The run's process is alive and working on it: its heartbeat lasts another lease from now."""
        with self.write() as db:
            self._check(db, "replay", replay_id)
            _beat(db, replay_id)

    def resume_replay(self, replay_id: int, *, concurrency: int | None = None) -> bool:
        """Claim a run that is not running (stopped, failed, or completed before cases were added) or
        whose heartbeat stopped (interrupted), for this process to do the cases left: running again,
        with a heartbeat from now (and `concurrency`, when given). False, and nothing written, when it
        is running with a live heartbeat (another process resumed it first): the claim and its check
        are one write, so two processes resuming at once never both run it."""
        with self.write() as db:
            self._check(db, "replay", replay_id)
            claimed = db.execute(
                "UPDATE replays SET status = 'running', error = NULL, finished_at = NULL, "
                "concurrency = COALESCE(:concurrency, concurrency) WHERE id = :id AND (status != 'running' "
                f"OR beat_until IS NULL OR beat_until < {DB_NOW})",
                {"id": replay_id, "concurrency": concurrency},
            ).rowcount
            if claimed:
                _beat(db, replay_id)
        return bool(claimed)

    def delete_replay(self, replay_id: int) -> None:
        """Remove a run: its results, and the threads it made that nobody continued in the chat."""
        with self.write() as db:
            self._check(db, "replay", replay_id)
            threads = list(
                db.execute(
                    "SELECT DISTINCT x.thread_id FROM replay_results x JOIN threads t ON t.id = x.thread_id "
                    "WHERE x.replay_id = :id AND t.kind != 'chat'",
                    {"id": replay_id},
                ).scalars()
            )
            db.execute("DELETE FROM replay_results WHERE replay_id = :id", {"id": replay_id})
            db.execute("DELETE FROM replays WHERE id = :id", {"id": replay_id})
            _delete_threads(db, threads)

    def finish_replay(self, replay_id: int, status: str, error: str | None = None) -> None:
        """End a run: `status`, and `error`, the sentence saying why it failed or stopped by itself."""
        with self.write() as db:
            self._check(db, "replay", replay_id)
            db.execute(
                "UPDATE replays SET status = :status, error = :error, finished_at = :now, beat_until = NULL "
                "WHERE id = :id",
                {"status": status, "error": error, "now": time.time(), "id": replay_id},
            )

    def list_replays(self, set_id: int) -> list[dict[str, Any]]:
        mine, params = self._mine("s")
        sql = f"""
            SELECT {REPLAY_COLUMNS}
            FROM replays r JOIN test_sets s ON s.id = r.set_id AND {mine}
            JOIN assistant_versions v ON v.id = r.version_id JOIN assistants a ON a.id = v.assistant_id
            WHERE r.set_id = :set_id ORDER BY r.id DESC
        """
        with self.db() as db:
            return db.rows(sql, {**params, "set_id": set_id})

    def replay_results(self, replay_id: int) -> list[dict[str, Any]]:
        mine, params = self._mine("s")
        sql = f"""
            SELECT x.case_id, c.position, c.input, c.expected, c.variables, c.tags, x.output, x.status,
                   x.total_tokens, x.latency_ms, x.error, x.thread_id, x.run_id, x.verdicts, x.passed, x.score,
                   COALESCE(x.input_tokens, run.input_tokens) AS input_tokens,
                   COALESCE(x.output_tokens, run.output_tokens) AS output_tokens,
                   COALESCE(x.model, run.model, json_extract(v.config, '$.model')) AS model
            FROM replay_results x JOIN test_cases c ON c.id = x.case_id
            JOIN replays r ON r.id = x.replay_id JOIN test_sets s ON s.id = r.set_id AND {mine}
            JOIN assistant_versions v ON v.id = r.version_id
            LEFT JOIN runs run ON run.id = x.run_id  -- results logged before migration 8 copied no tokens
            WHERE x.replay_id = :replay_id ORDER BY c.position
        """
        with self.db() as db:
            return [_case(r) for r in db.rows(sql, {**params, "replay_id": replay_id})]

    # -- added for the log pages (issue 5) ----------------------------------------------------

    def conversation_ids(
        self,
        *,
        query: str | None = None,
        assistant_id: int | None = None,
        version_id: int | None = None,
        model: str | None = None,
        since: float | None = None,
        until: float | None = None,
        kinds: tuple[str, ...] | None = ("chat",),
    ) -> list[int]:
        """Every thread matching these filters (as `conversations`), newest first: the true total, and
        what an export of a filtered or searched set holds. Ids only, so 10,000 cost a few ms."""
        where, params = self._thread_where(query, assistant_id, version_id, model, since, until, None, kinds)
        sql = f"""
            SELECT t.id FROM threads t JOIN assistants a ON a.id = t.assistant_id
            WHERE {where} ORDER BY t.updated_at DESC, t.id DESC
        """
        with self.db() as db:
            return [r[0] for r in db.execute(sql, params)]

    def _thread_where(
        self,
        query: str | None,
        assistant_id: int | None,
        version_id: int | None,
        model: str | None,
        since: float | None,
        until: float | None,
        thread_ids: list[int] | None,
        kinds: tuple[str, ...] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The WHERE clause over threads t and assistants a shared by the conversation queries."""
        mine, params = self._threads_mine()
        where: list[str] = [mine]
        if kinds is not None:
            where.append("t.kind IN :kinds")
            params["kinds"] = list(kinds)
        if query is not None:
            # A query with no words matches nothing (not everything): the user asked for a search.
            where.append(
                "t.id IN (SELECT m.thread_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
                "WHERE messages_fts MATCH :match)"
            )
            params["match"] = fts_query(query) or '""'
        if assistant_id is not None:
            where.append("t.assistant_id = :assistant_id")
            params["assistant_id"] = assistant_id
        if version_id is not None:
            where.append("t.id IN (SELECT thread_id FROM messages WHERE version_id = :version_id)")
            params["version_id"] = version_id
        if model:
            where.append("t.id IN (SELECT thread_id FROM runs WHERE model = :model)")
            params["model"] = model
        if since is not None:
            where.append("t.updated_at >= :since")
            params["since"] = since
        if until is not None:
            where.append("t.created_at < :until")
            params["until"] = until
        if thread_ids is not None:
            where.append("t.id IN :thread_ids")
            params["thread_ids"] = list(thread_ids)
        return " AND ".join(where), params

    def set_version_note(self, version_id: int, note: str) -> Version:
        """Change a version's note. Notes are metadata: the configuration a version ran stays as it was."""
        note = note.strip()
        if len(note) > self.MAX_NOTE:
            raise ValueError(f"A note holds at most {self.MAX_NOTE} characters; this one has {len(note)}.")
        with self.write() as db:
            self._check(db, "version", version_id)
            db.execute("UPDATE assistant_versions SET note = :note WHERE id = :id", {"note": note, "id": version_id})
            row = self._one(db, "version", version_id, _columns(Version))
        assert row is not None  # checked above, in this transaction
        return Version.from_row(row)

    def get_replay(self, replay_id: int) -> dict[str, Any] | None:
        """One replay as `list_replays` lists it, if it is this owner's."""
        mine, params = self._mine("s")
        sql = f"""
            SELECT {REPLAY_COLUMNS}
            FROM replays r JOIN test_sets s ON s.id = r.set_id AND {mine}
            JOIN assistant_versions v ON v.id = r.version_id JOIN assistants a ON a.id = v.assistant_id
            WHERE r.id = :replay_id
        """
        with self.db() as db:
            rows = db.rows(sql, {**params, "replay_id": replay_id})
        return rows[0] if rows else None

    # -- spending: the deployment's, per person per day ---------------------------------------
    # Outside the ownership rule on purpose: what a deployment spends is its own, counted per person
    # (an email, a session) whoever's log rows the requests made; only the limits module reads it.

    def charge(
        self, person: str, day: str, tokens: int, cost: float | None, refuse: Callable[[dict[str, Any]], str | None]
    ) -> int:
        """Count a request as it starts: `refuse` is shown today's totals (`person_turns`, `person_tokens`,
        `person_cost`, `turns`, `tokens`, `cost`, this request included) and says why it may not go (a
        sentence), or None; then the request's row is written, in the same write transaction, so
        requests made at once (an evaluation's cases, a compare) are each counted before the next is
        checked and cannot overshoot together. Raises ValueError with the sentence when refused."""
        with self.write() as db:
            totals = db.rows(
                _SPENT,
                {"person": person, "day": day},
            )[0]
            extra = {"turns": 1, "tokens": tokens, "cost": cost or 0.0}
            after = {k: v + extra[k.removeprefix("person_")] for k, v in totals.items()}
            why = refuse(after)
            if why:
                raise ValueError(why)
            return db.insert(
                "spending",
                {"day": day, "person": person, "tokens": tokens, "cost": cost, "created_at": time.time()},
            )

    def settle(self, charge_id: int, person: str, tokens: int, cost: float | None) -> None:
        """Put the tokens and cost the server reported in place of a request's estimate (`person`'s)."""
        with self.write() as db:
            db.execute(
                "UPDATE spending SET tokens = :tokens, cost = :cost, settled = 1 WHERE id = :id AND person = :person",
                {"tokens": tokens, "cost": cost, "id": charge_id, "person": person},
            )

    def uncharge(self, charge_id: int, person: str) -> None:
        """Take back a request that upstream refused before doing anything (a 429, a 400): it used
        nothing, so it counts for nothing, a turn included."""
        with self.write() as db:
            db.execute("DELETE FROM spending WHERE id = :id AND person = :person", {"id": charge_id, "person": person})

    def spent(self, person: str, day: str) -> dict[str, Any]:
        """Today's totals: the person's (`person_turns`, …) and the deployment's (`turns`, …)."""
        with self.db() as db:
            return db.rows(
                _SPENT,
                {"person": person, "day": day},
            )[0]

    def spending_by_person(self, day: str) -> list[dict[str, Any]]:
        """An admin's view of a day's spending: turns, tokens and estimated cost per person, most first.
        PermissionError for anyone else: what others spend is not theirs to read."""
        self._admin_only()
        with self.db() as db:
            return db.rows(
                "SELECT person, COUNT(*) AS turns, SUM(tokens) AS tokens, SUM(cost) AS cost FROM spending "
                "WHERE day = :day GROUP BY person ORDER BY turns DESC, person",
                {"day": day},
            )

    def reset_spending(self, day: str, person: str | None = None) -> int:
        """An admin lifts a day's count (one person's, or everyone's with None): those requests no
        longer count against the limits. Returns how many were lifted; PermissionError for anyone else."""
        self._admin_only()
        with self.write() as db:
            if person is None:
                return int(db.execute("DELETE FROM spending WHERE day = :day", {"day": day}).rowcount)
            return int(
                db.execute(
                    "DELETE FROM spending WHERE day = :day AND person = :person", {"day": day, "person": person}
                ).rowcount
            )

    def _admin_only(self) -> None:
        if not self.admin:
            raise PermissionError("Only an admin of this deployment may do that.")

    MAX_NOTE = 500  # characters in a version's note
    MAX_SNIPPET_ROWS = 1000  # matches read for the snippets under a listed page


def fts_query(text: str) -> str:
    """User words → an FTS5 query: each word quoted (no syntax errors), the last one as a prefix
    when it has 3 letters or more (a 1–2 letter prefix matches most of the log)."""
    words = re.findall(r"\w+", text or "")
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    if len(words[-1]) >= 3:
        quoted[-1] += "*"
    return " ".join(quoted)


def _title(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _start_run(
    db: engine.Db, thread_id: int, version_id: int | None, user_message_id: int, model: str, now: float
) -> int:
    """Insert a run in progress, holding a lease from now; returns its id. SQL rather than `Db.insert`:
    the lease is an expression on the database's clock, not a value."""
    row = {
        "thread": thread_id,
        "version": version_id,
        "message": user_message_id,
        "model": model,
        "now": now,
        "lease": settings.run_lease_s(),
    }
    rowid = db.execute(
        "INSERT INTO runs (thread_id, version_id, user_message_id, model, status, created_at, lease_until) "
        f"VALUES (:thread, :version, :message, :model, 'in_progress', :now, {DB_NOW} + :lease)",
        row,
    ).lastrowid
    assert rowid is not None, "an INSERT gave no row id"
    return int(rowid)


def _seen_name(alias: str, own: str) -> str:
    """SQL for the name of assistant `alias` as a reader sees it: its own name where `own` holds (the
    reader's), else its latest version's (what its owner shared), never the draft's name its owner is
    still typing (`save_draft` keeps that in `assistants.name`); '' when it has no version."""
    latest = f"SELECT json_extract(v.config, '$.name') FROM assistant_versions v WHERE v.assistant_id = {alias}.id"
    return f"CASE WHEN {own} THEN {alias}.name ELSE COALESCE(({latest} ORDER BY v.number DESC LIMIT 1), '') END"


# A run as the test-set reads list it; `interrupted`: running, but its process's heartbeat stopped.
REPLAY_COLUMNS = f"""r.id, r.set_id, r.status, r.created_at, r.finished_at, r.version_id, v.number AS version,
    {_seen_name("a", "a.owner = s.owner")} AS assistant, json_extract(v.config, '$.model') AS model, r.graders,
    r.concurrency, r.error,
    r.status = 'running' AND (r.beat_until IS NULL OR r.beat_until < {DB_NOW}) AS interrupted"""


# A day's spending: the deployment's totals and one person's (see `Store.charge`).
_SPENT = (
    "SELECT COUNT(*) AS turns, COALESCE(SUM(tokens), 0) AS tokens, COALESCE(SUM(cost), 0) AS cost, "
    "COALESCE(SUM(person = :person), 0) AS person_turns, "
    "COALESCE(SUM(CASE WHEN person = :person THEN tokens END), 0) AS person_tokens, "
    "COALESCE(SUM(CASE WHEN person = :person THEN cost END), 0) AS person_cost "
    "FROM spending WHERE day = :day"
)


def _beat(db: engine.Db, replay_id: int) -> None:
    db.execute(
        f"UPDATE replays SET beat_until = {DB_NOW} + :lease WHERE id = :id",
        {"lease": settings.run_lease_s(), "id": replay_id},
    )


def _delete_threads(db: engine.Db, thread_ids: list[int]) -> None:
    """Remove threads and everything logged under them (ownership checked by the caller)."""
    ids = {"ids": thread_ids}
    db.execute("DELETE FROM run_files WHERE run_id IN (SELECT id FROM runs WHERE thread_id IN :ids)", ids)
    db.execute("DELETE FROM tool_calls WHERE thread_id IN :ids", ids)
    db.execute("DELETE FROM messages WHERE thread_id IN :ids", ids)
    db.execute("DELETE FROM runs WHERE thread_id IN :ids", ids)
    db.execute("DELETE FROM threads WHERE id IN :ids", ids)


def _add_cases(db: engine.Db, set_id: int, cases: Iterable[Mapping[str, Any]]) -> int:
    start = db.value("SELECT COALESCE(MAX(position), -1) + 1 FROM test_cases WHERE set_id = :id", {"id": set_id})
    rows = [_case_row(set_id, int(start) + i, case) for i, case in enumerate(cases)]
    db.many(
        "INSERT INTO test_cases (set_id, position, input, expected, variables, tags, source_thread_id) "
        "VALUES (:set_id, :position, :input, :expected, :variables, :tags, :source_thread_id)",
        rows,
    )
    return len(rows)


def _case(row: Mapping[str, Any]) -> dict[str, Any]:
    """A case (or a result with its case) as read: variables a dict, tags a list, verdicts decoded."""
    out = dict(row)
    for key, empty in (("variables", {}), ("tags", []), ("verdicts", None)):
        if key in out:
            out[key] = json.loads(out[key]) if out[key] else empty
    return out


def _case_row(set_id: int, position: int, case: Mapping[str, Any]) -> dict[str, Any]:
    """A case as written: its text fields checked, variables and tags as JSON."""
    text = case.get("input")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"Case {position + 1} has no input.")
    expected = case.get("expected")
    variables = {str(k): str(v) for k, v in dict(case.get("variables") or {}).items()}
    tags = [str(t) for t in case.get("tags") or []]
    return {
        "set_id": set_id,
        "position": position,
        "input": text,
        "expected": None if expected is None else str(expected),
        "variables": json.dumps(variables, ensure_ascii=False),
        "tags": json.dumps(tags, ensure_ascii=False),
        "source_thread_id": case.get("source_thread_id"),
    }


def _touch_thread(db: engine.Db, thread_id: int, now: float, role: str, text: str) -> None:
    """A message landed in the thread: its activity is now, and a user's first message names it, so the
    thread list reads like a history."""
    db.execute(
        "UPDATE threads SET updated_at = :now, title = CASE WHEN title = '' AND :role = 'user' "
        "THEN :title ELSE title END WHERE id = :id",
        {"now": now, "role": role, "title": _title(text), "id": thread_id},
    )


# Columns a run's updates may set: what a Run holds, less what identifies it, plus the stream's text
# kept while a turn is open.
RUN_UPDATABLE = frozenset(Run.__dataclass_fields__) - {"id", "thread_id", "created_at"} | {"partial"}


def _run_assignments(fields: dict[str, Any]) -> str:
    """The SET clause for a run update; column names are checked, never taken from input."""
    unknown = set(fields) - RUN_UPDATABLE
    if unknown:
        raise ValueError(f"Unknown run fields: {sorted(unknown)}")
    return ", ".join(f"{k} = :{k}" for k in fields)


def _usage_columns(r: str = "") -> str:
    """Aggregates for a usage roll-up (runs table alias `r`): finished runs, those among them whose
    tokens the server never reported (unknown, never summed as 0), and the tokens of the known ones."""
    known = f"({r}input_tokens IS NOT NULL AND {r}output_tokens IS NOT NULL)"
    return (
        f"SUM({r}status != 'in_progress'), SUM({r}status != 'in_progress' AND NOT {known}), "
        f"COALESCE(SUM(CASE WHEN {known} THEN {r}input_tokens END), 0), "
        f"COALESCE(SUM(CASE WHEN {known} THEN {r}output_tokens END), 0)"
    )


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# -- leases -----------------------------------------------------------------------------------------


class _LeaseKeeper:
    """This process's lease work on one log, on a daemon thread of its own. Every third of a lease it
    renews the leases of the turns this process runs (one UPDATE for all of them), so a turn whose model
    says nothing for minutes keeps its run; every lease it sweeps the runs whose lease ran out (their
    process died). One per log file per process, started by the first open that could write."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._failing = False
        self.thread = threading.Thread(target=self._loop, daemon=True, name=f"leases-{store.path.name}")

    def hold(self, run_id: int) -> None:
        with self._lock:
            self._held.add(run_id)

    def release(self, run_id: int) -> None:
        with self._lock:
            self._held.discard(run_id)

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    def _loop(self) -> None:
        swept = time.monotonic()
        while True:
            lease = settings.run_lease_s()  # read each time: it may change while the process runs
            time.sleep(lease / 3)
            held = self.held()
            if not held and not self.store.path.exists():  # the log went away (a removed folder): stop
                with _keepers_lock:
                    if _keepers.get(self.key) is self:
                        del _keepers[self.key]
                return
            try:
                self.store.renew_leases(held)
                if time.monotonic() - swept >= lease:
                    swept = time.monotonic()
                    if self.store.any_expired_runs():
                        self.store.recover_expired_runs(spare=self.held())
                self._failing = False
            except Exception as exc:  # locked for a while, made read-only...: try again next time
                if not self._failing:
                    logger.warning("could not renew or sweep the leases of %s: %s", self.store.path, exc)
                self._failing = True


_keepers: dict[str, _LeaseKeeper] = {}
_keepers_lock = threading.Lock()


def _keep_leases(store: Store) -> _LeaseKeeper:
    """The lease keeper of the store's log in this process, started on first use."""
    key = str(store.path.resolve())
    with _keepers_lock:
        keeper = _keepers.get(key)
        if keeper is None:
            keeper = _keepers[key] = _LeaseKeeper(store, key)
            keeper.thread.start()
        return keeper


def _held_here(path: Path) -> set[int]:
    """The runs whose turns this process runs on the log at `path` (their leases it renews)."""
    with _keepers_lock:
        keeper = _keepers.get(str(path.resolve()))
    return keeper.held() if keeper is not None else set()
