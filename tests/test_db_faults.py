"""The database says no (issue 10, item 1): locked, full, read-only, corrupt, or not there at all.

For each: one sentence saying what is wrong and what to do (naming the file), never a traceback;
nothing saved changes; a read-only or locked log still opens for reading (the writes done at open
are skipped, and the page says so); a message typed at Send stays in the browser session and can be
sent again, once, when the log takes writes again; nothing goes upstream while the log refuses.

The seams need no root: a short busy timeout (`PLAYGROUND_DB_BUSY_TIMEOUT`), a size cap
(`PLAYGROUND_DB_MAX_MB`, i.e. `PRAGMA max_page_count`) for "full", and a read-only open
(`PLAYGROUND_DB_READ_ONLY`, a `mode=ro` URI). Where the filesystem supports it, `chattr +i` is the
real read-only case as root (root ignores permission bits, not the immutable flag).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground import engine, errors, settings, turn
from playground import store as store_module
from playground.assistant import AssistantConfig
from playground.store import MIGRATIONS, Store
from tests.conftest import TEST_KEY
from tests.pages import APP, chat_texts, create, texts

SHORT = "0.2"  # seconds a write waits for a lock in these tests


def digest(path: Path) -> str:
    """The log's content as saved (the main file and its WAL), to prove nothing changed."""
    parts = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    return hashlib.sha256(b"".join(parts)).hexdigest()


def log_error():
    return errors.LogError  # the exception every refused log operation raises


@contextlib.contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Another writer holding the log's write lock (as a second program would)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """The file made read-only even for root; skips only where the filesystem has no such flag."""
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def as_if_restarted(path: Path) -> None:
    """The next Store on this file opens it as a new process would (with the writes done at open, and
    none of this process's pooled connections: a new process opens its own)."""
    store_module._migrated.discard(str(path.resolve()))
    engine.dispose(path)


def interrupted_run(store: Store) -> int:
    """A run a dead process left in progress, its lease run out: the open-time recovery would close it."""
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, AssistantConfig(name="T", model="gpt-4.1-mini"))
    thread = store.create_thread(assistant.id)
    message = store.add_message(thread.id, "user", "cut off", version_id=version.id, status="incomplete")
    run_id = store.start_run(thread.id, version.id, message, "gpt-4.1-mini", attempt=True)
    with store.write() as db:
        db.execute("UPDATE runs SET created_at = 0, lease_until = 0 WHERE id = :id", {"id": run_id})
    return run_id


def one_sentence(text: str, *fragments: str) -> None:
    assert text.count(". ") + text.count(": ") <= 2 and "Traceback" not in text, text
    assert TEST_KEY not in text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


# -- the log on its own ---------------------------------------------------------------------------


def test_busy_timeout_defaults_to_5_s_and_is_configurable(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_DB_BUSY_TIMEOUT", raising=False)
    assert settings.db_busy_timeout() == 5.0
    monkeypatch.setenv("PLAYGROUND_DB_BUSY_TIMEOUT", "0.25")
    assert settings.db_busy_timeout() == 0.25


def test_a_locked_log_refuses_a_write_after_the_busy_timeout_with_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DB_BUSY_TIMEOUT", SHORT)
    path = tmp_path / "log.db"
    store = Store(path)
    assistant = store.create_assistant()
    before = digest(path)
    with held_lock(path):
        began = time.monotonic()
        with pytest.raises(log_error()) as caught:
            store.save_draft(assistant.id, AssistantConfig(name="changed"))
        assert time.monotonic() - began < 3
    problem = caught.value.problem
    assert problem.kind == "db_locked"
    one_sentence(problem.message, str(path), "locked")
    assert errors.say(caught.value) == problem.message  # the one mechanism that words every failure
    assert digest(path) == before


def test_a_full_log_refuses_a_write_and_keeps_what_was_saved(tmp_path, monkeypatch):
    path = tmp_path / "log.db"
    store = Store(path)
    assistant = store.create_assistant()
    thread = store.create_thread(assistant.id)
    with store.db() as db:
        pages, size = (db.value(f"PRAGMA {p}") for p in ("page_count", "page_size"))
    monkeypatch.setenv("PLAYGROUND_DB_MAX_MB", str(pages * size / 2**20))
    capped = Store(path)
    with pytest.raises(log_error()) as caught:
        capped.add_message(thread.id, "user", "too long " * 4000)
    assert caught.value.problem.kind == "db_full"
    one_sentence(caught.value.problem.message, str(path), "full")
    assert capped.list_messages(thread.id) == []


def test_a_read_only_open_reads_skips_the_writes_done_at_open_and_refuses_writes(tmp_path):
    path = tmp_path / "log.db"
    store = Store(path)
    run_id = interrupted_run(store)
    as_if_restarted(path)
    before = digest(path)

    reader = Store(path, read_only=True)
    assert reader.read_only and reader.problem is not None
    one_sentence(reader.problem.message, str(path), "read-only")
    assert reader.get_run(run_id).status == "in_progress"  # recovery skipped, not half-done
    assert len(reader.list_assistants()) == 1
    with pytest.raises(log_error()) as caught:
        reader.create_assistant()
    assert caught.value.problem.kind == "db_read_only"
    one_sentence(caught.value.problem.message, str(path), "read-only")
    assert digest(path) == before


def test_an_immutable_file_opens_read_only_even_as_root(tmp_path):
    path = tmp_path / "log.db"
    store = Store(path)
    run_id = interrupted_run(store)
    as_if_restarted(path)
    before = digest(path)
    with immutable(path):
        reader = Store(path)
        assert reader.read_only
        one_sentence(reader.problem.message, str(path), "read-only")
        assert reader.get_run(run_id).status == "in_progress"
        with pytest.raises(log_error()) as caught:
            reader.create_assistant()
        assert caught.value.problem.kind == "db_read_only"
    assert digest(path) == before


def test_a_log_locked_at_open_opens_for_reading_and_recovers_once_free(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DB_BUSY_TIMEOUT", SHORT)
    path = tmp_path / "log.db"
    run_id = interrupted_run(Store(path))
    as_if_restarted(path)
    with held_lock(path):
        reader = Store(path)
        assert reader.problem is not None and reader.problem.kind == "db_locked"
        one_sentence(reader.problem.message, str(path), "locked")
        assert reader.get_run(run_id).status == "in_progress"
    # The writes skipped at open are done by the next open once the lock is gone.
    after = Store(path)
    assert after.problem is None
    assert after.get_run(run_id).status == "incomplete"


def test_a_schema_that_needs_migrating_but_is_read_only_says_so(tmp_path):
    path = tmp_path / "log.db"
    raw = sqlite3.connect(path, isolation_level=None)
    for number, migration in enumerate(MIGRATIONS[:7], start=1):  # as a build from before names left it
        raw.executescript(f"BEGIN; {migration.sql}; PRAGMA user_version = {number}; COMMIT;")
    raw.close()
    before = digest(path)
    with pytest.raises(log_error()) as caught:
        Store(path, read_only=True)
    assert caught.value.problem.kind == "db_read_only"
    one_sentence(caught.value.problem.message, str(path), "upgrad", "read-only")
    assert digest(path) == before


def test_a_corrupt_file_says_so_and_is_left_alone(tmp_path):
    path = tmp_path / "log.db"
    path.write_bytes(b"not a database, just words " * 200)
    before = digest(path)
    with pytest.raises(log_error()) as caught:
        Store(path)
    assert caught.value.problem.kind == "db_corrupt"
    one_sentence(caught.value.problem.message, str(path), "PLAYGROUND_DB")
    assert digest(path) == before


def test_a_path_under_a_regular_file_says_so(tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    path = tmp_path / "file" / "log.db"
    with pytest.raises(log_error()) as caught:
        Store(path)
    assert caught.value.problem.kind == "db_unreachable"
    one_sentence(caught.value.problem.message, str(path), "PLAYGROUND_DB")


def test_a_turn_whose_run_cannot_be_logged_leaves_no_message_behind(store, backend, upstream, thread, version):
    with store.write() as db:
        db.execute(
            "CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    with pytest.raises(Exception):  # noqa: B017 -- whatever the refusal, nothing may stay behind
        turn.start(store, backend, thread.id, version, "hello")
    assert store.list_messages(thread.id) == []
    assert not [r for r in upstream.requests if r["path"].endswith(("/responses", "/conversations"))]


# -- the pages ------------------------------------------------------------------------------------


def said(at) -> list[str]:
    return texts(at, "error") + texts(at, "warning")


def responses(upstream) -> list:
    return [r for r in upstream.requests if r["path"].endswith("/responses")]


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DB_BUSY_TIMEOUT", SHORT)


def assert_kept_and_sent_once(app, log, upstream, text, assistant_id):
    """The typed text waits in the unsent box; Send again (once the log takes writes) sends it once."""
    box = f"unsent.{assistant_id}"
    assert app.text_area(key=box).value == text
    assert not responses(upstream)
    app.button(key="send_unsent").click().run()
    assert not app.exception, app.exception
    assert chat_texts(app) == [text, f"Echo: {text}"]
    assert [m.content for t in log.list_threads(assistant_id) for m in log.list_messages(t.id)] == [
        text,
        f"Echo: {text}",
    ]
    assert len(responses(upstream)) == 1
    assert not [t for t in said(app) if "locked" in t or "full" in t]


def test_page_send_to_a_locked_log_keeps_the_message_and_sends_it_once_free(short_timeout, app, log, db_path, upstream):
    create(app)
    [assistant] = log.list_assistants()
    before = digest(db_path)
    with held_lock(db_path):
        began = time.monotonic()
        app.chat_input[0].set_value("Keep me").run()
        assert time.monotonic() - began < 10
        assert not app.exception, app.exception
        sentences = [t for t in said(app) if "locked" in t]
        assert len(sentences) == 1, said(app)
        one_sentence(sentences[0], str(db_path))
        # An edit made meanwhile is not saved either: one sentence, no traceback, the edit stays on screen.
        app.text_input(key="cfg.name").input("Renamed").run()
        assert not app.exception, app.exception
        assert [t for t in said(app) if "locked" in t]
        assert app.text_input(key="cfg.name").value == "Renamed"
        assert digest(db_path) == before
    assert log.get_unsent(assistant["id"]) is None
    assert_kept_and_sent_once(app, log, upstream, "Keep me", assistant["id"])


def test_page_send_to_a_full_log_keeps_the_message_and_sends_it_once_there_is_room(
    app, log, db_path, upstream, monkeypatch
):
    create(app)
    [assistant] = log.list_assistants()
    with log.db() as db:
        pages, size = (db.value(f"PRAGMA {p}") for p in ("page_count", "page_size"))
    text = " ".join(["Keep this long message"] * 800)
    monkeypatch.setenv("PLAYGROUND_DB_MAX_MB", str(pages * size / 2**20))
    app.chat_input[0].set_value(text).run()
    assert not app.exception, app.exception
    sentences = [t for t in said(app) if "full" in t]
    assert len(sentences) == 1, said(app)
    one_sentence(sentences[0], str(db_path))
    assert [m for t in log.list_threads(assistant["id"]) for m in log.list_messages(t.id)] == []
    monkeypatch.delenv("PLAYGROUND_DB_MAX_MB")
    assert_kept_and_sent_once(app, log, upstream, text, assistant["id"])


def chatted(app, log) -> int:
    create(app)
    app.chat_input[0].set_value("hello").run()
    assert chat_texts(app) == ["hello", "Echo: hello"]
    [assistant] = log.list_assistants()
    return assistant["id"]


def assert_drawn_read_only(at, db_path, before):
    assert not at.exception, at.exception
    warned = [t for t in said(at) if "read-only" in t]
    assert warned, said(at)
    one_sentence(warned[0], str(db_path))
    assert chat_texts(at) == ["hello", "Echo: hello"]
    assert at.chat_input[0].disabled
    at.text_input(key="cfg.name").input("Renamed").run()  # an edit cannot be kept: one sentence, no traceback
    assert not at.exception, at.exception
    assert [t for t in said(at) if "read-only" in t]
    assert digest(db_path) == before


def test_page_opens_a_read_only_log_for_reading(app, log, db_path, upstream, monkeypatch):
    chatted(app, log)
    before = digest(db_path)
    monkeypatch.setenv("PLAYGROUND_DB_READ_ONLY", "1")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert_drawn_read_only(at, db_path, before)


def test_page_opens_an_immutable_log_for_reading(app, log, db_path, upstream):
    chatted(app, log)
    # WAL content is checkpointed into the file first, as a clean shutdown leaves it; then the restart
    # (after the checkpoint: the connection it borrowed must not outlive the process it stands for).
    with log.db() as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    as_if_restarted(db_path)
    before = digest(db_path)
    with immutable(db_path):
        at = AppTest.from_file(APP, default_timeout=30).run()
        assert_drawn_read_only(at, db_path, before)


def test_page_opens_a_log_locked_at_open_for_reading(short_timeout, app, log, db_path, upstream):
    chatted(app, log)
    as_if_restarted(db_path)
    with held_lock(db_path):
        at = AppTest.from_file(APP, default_timeout=30).run()
        assert not at.exception, at.exception
        warned = [t for t in said(at) if "locked" in t]
        assert len(warned) == 1, said(at)
        one_sentence(warned[0], str(db_path))
        assert chat_texts(at) == ["hello", "Echo: hello"]


@pytest.mark.parametrize("case", ["corrupt", "under_a_file"])
def test_page_that_cannot_open_the_log_says_why_and_stops(case, tmp_path, monkeypatch, upstream):
    if case == "corrupt":
        path = tmp_path / "log.db"
        path.write_bytes(b"not a database, just words " * 200)
    else:
        (tmp_path / "file").write_text("a file, not a folder")
        path = tmp_path / "file" / "log.db"
    before = path.read_bytes() if path.exists() else None
    monkeypatch.setenv("PLAYGROUND_DB", str(path))
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    assert len(texts(at, "error")) == 1, texts(at, "error")
    one_sentence(texts(at, "error")[0], str(path), "PLAYGROUND_DB")
    assert not at.chat_input
    assert (path.read_bytes() if path.exists() else None) == before
