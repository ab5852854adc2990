"""The SQLite log: schema, drafts and versions, threads, messages, runs, ownership, concurrency."""

import sqlite3
import threading
import time

import pytest

from playground.assistant import AssistantConfig
from playground.store import MIGRATIONS, Store


def test_new_file_is_migrated_and_in_wal_mode(tmp_path):
    store = Store(tmp_path / "sub" / "log.db")
    assert store.applied_migrations() == [m.name for m in MIGRATIONS]
    assert store.pending_migrations() == []
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"assistants", "assistant_versions", "drafts", "threads", "messages", "runs"} <= tables


def test_draft_keeps_invalid_edits(store):
    a = store.create_assistant()
    bad = AssistantConfig(name="x", temperature=7)
    store.save_draft(a.id, bad)
    draft, _ = store.get_draft(a.id)
    assert draft == bad
    with pytest.raises(ValueError, match="temperature"):
        store.save_version(a.id, bad)
    assert store.list_versions(a.id) == []


def test_versions_are_immutable_and_only_made_on_change(store):
    a = store.create_assistant()
    v1, created = store.save_version(a.id, AssistantConfig(name="one"))
    assert created and v1.number == 1
    same, created = store.save_version(a.id, AssistantConfig(name="one"))
    assert not created and same.id == v1.id
    v2, created = store.save_version(a.id, AssistantConfig(name="two"), note="renamed")
    assert created and v2.number == 2
    assert [v.number for v in store.list_versions(a.id)] == [2, 1]
    assert store.get_version(v1.id).config.name == "one"
    assert store.latest_version(a.id).note == "renamed"
    assert store.get_assistant(a.id).name == "two"


def test_list_assistants_summarises(store):
    a = store.create_assistant(AssistantConfig(name="A", model="gpt-5"))
    store.save_version(a.id, AssistantConfig(name="A", model="gpt-5"))
    t = store.create_thread(a.id)
    store.add_message(t.id, "user", "hi")
    b = store.create_assistant(AssistantConfig(name="B"))
    rows = store.list_assistants()
    assert [r["name"] for r in rows] == ["B", "A"]  # most recently used or edited first
    assert rows[1]["versions"] == 1 and rows[1]["threads"] == 1 and rows[1]["model"] == "gpt-5"
    store.archive_assistant(b.id)
    assert [r["name"] for r in store.list_assistants()] == ["A"]
    assert len(store.list_assistants(include_archived=True)) == 2


def test_threads_take_their_title_from_the_first_user_message(store):
    a = store.create_assistant()
    t = store.create_thread(a.id)
    store.add_message(t.id, "user", "How do I   reset\nmy password? " + "x" * 100)
    store.add_message(t.id, "user", "second")
    title = store.get_thread(t.id).title
    assert title.startswith("How do I reset my password?") and title.endswith("…") and len(title) == 60
    store.set_conversation(t.id, "conv_1")
    assert store.list_threads(a.id)[0].conversation_id == "conv_1"


def test_message_window_returns_the_newest_in_order(store):
    a = store.create_assistant()
    t = store.create_thread(a.id)
    for i in range(10):
        store.add_message(t.id, "user", f"m{i}")
    assert [m.content for m in store.list_messages(t.id, limit=3)] == ["m7", "m8", "m9"]
    assert store.count_messages(t.id) == 10


def test_owners_do_not_see_each_other(tmp_path):
    alice = Store(tmp_path / "log.db", owner="key:alice")
    bob = Store(tmp_path / "log.db", owner="key:bob")
    a = alice.create_assistant(AssistantConfig(name="secret plan"))
    t = alice.create_thread(a.id)
    m = alice.add_message(t.id, "user", "hello")
    assert bob.list_assistants() == []
    assert bob.get_assistant(a.id) is None
    assert bob.get_thread(t.id) is None
    assert bob.get_message(m) is None
    with pytest.raises(LookupError):
        bob.save_draft(a.id, AssistantConfig())
    with pytest.raises(LookupError):
        bob.list_threads(a.id)


def test_update_run_rejects_unknown_fields(store):
    a = store.create_assistant()
    t = store.create_thread(a.id)
    run = store.start_run(t.id, None, 1, "gpt-5")
    store.update_run(run, status="completed", input_tokens=3)
    assert store.get_run(run).status == "completed"
    with pytest.raises(ValueError):
        store.update_run(run, owner="x")


def test_interrupted_runs_whose_lease_ran_out_are_closed_on_the_next_start(tmp_path):
    import playground.store as store_module

    store = Store(tmp_path / "log.db")
    a = store.create_assistant()
    t = store.create_thread(a.id)
    message = store.add_message(t.id, "user", "cut off", status="incomplete")
    run = store.start_run(t.id, None, message, "m", attempt=True)
    live = store.start_run(t.id, None, message, "m")
    with store.write() as db:  # the first run's process died an hour ago; the second's still renews
        db.execute("UPDATE runs SET lease_until = lease_until - 3600 WHERE id = :id", {"id": run})
    store_module._migrated.clear()  # as if the process had restarted
    Store(tmp_path / "log.db")
    assert store.get_run(run).status == "incomplete" and store.get_run(run).problem == "interrupted"
    assert store.get_run(live).status == "in_progress"
    m = store.get_message(message)
    assert (m.status, m.error.startswith("Interrupted")) == ("failed", True)


def test_a_failed_transaction_writes_nothing(store):
    a = store.create_assistant()
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("INSERT INTO threads (assistant_id, created_at, updated_at) VALUES (:id, 0, 0)", {"id": a.id})
        raise RuntimeError("boom")
    assert store.list_threads(a.id) == []


def test_concurrent_writers_lose_nothing(tmp_path):
    """Eight sessions writing at once through per-operation connections: every row lands."""
    store = Store(tmp_path / "log.db")
    a = store.create_assistant()
    threads = [store.create_thread(a.id).id for _ in range(8)]
    errors = []

    def session(thread_id):
        try:
            for i in range(50):
                store.add_message(thread_id, "user", f"m{i}")
        except Exception as e:  # pragma: no cover - surfaced by the assert below
            errors.append(e)

    workers = [threading.Thread(target=session, args=(t,)) for t in threads]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert sum(store.count_messages(t) for t in threads) == 400


def test_anonymous_work_is_adopted_and_blank_sessions_of_a_dead_process_are_forgotten(tmp_path):
    path = tmp_path / "log.db"
    anonymous = Store(path, owner="session:abc")
    edited = anonymous.create_assistant()
    anonymous.save_draft(edited.id, AssistantConfig(name="Half done"))
    blank = anonymous.create_assistant()
    mine = Store(path, owner="key:123")
    assert mine.adopt("session:abc") == 2
    assert {a["id"] for a in mine.list_assistants()} == {edited.id, blank.id}
    assert anonymous.list_assistants() == []

    other = Store(path, owner="session:old")
    left_blank, left_edited = other.create_assistant(), other.create_assistant()
    other.save_draft(left_edited.id, AssistantConfig(name="Kept"))
    assert other.forget_empty_sessions(before=time.time() + 1) == 1
    assert [a["id"] for a in other.list_assistants()] == [left_edited.id]
    assert other.get_assistant(left_blank.id) is None
    assert len(mine.list_assistants()) == 2  # a key's log is never swept


def test_a_continuation_hands_its_outputs_over_in_the_same_transaction_as_its_end(store):
    a = store.create_assistant()
    t = store.create_thread(a.id)
    question = store.add_message(t.id, "user", "weather?", status="incomplete")
    first = store.start_run(t.id, None, question, "m", attempt=True)
    store.finish_turn(
        first, user_message_id=question, user_status="complete", reply=None, reply_status="complete",
        thread_id=t.id, version_id=None, tool_calls=[("call_1", "get_weather", "{}", [])], status="requires_action",
    )  # fmt: skip
    store.set_tool_outputs(first, {"call_1": ("sunny", "hand")}, answered=False)
    after = store.start_run(t.id, None, question, "m")
    with pytest.raises(ValueError, match="Unknown run fields"):  # the run's end is refused as a whole...
        store.finish_turn(
            after, user_message_id=question, user_status="complete", reply="Sunny.", reply_status="complete",
            thread_id=t.id, version_id=None, answered=(first, {"call_1": ("sunny", "hand")}), owner="x",
        )  # fmt: skip
    [call] = store.tool_calls(first)
    assert (call.status, call.answered_at) == ("pending", None)  # ...so the call still waits for the model
    store.finish_turn(
        after, user_message_id=question, user_status="complete", reply="Sunny.", reply_status="complete",
        thread_id=t.id, version_id=None, answered=(first, {"call_1": ("sunny", "hand")}), status="completed",
    )  # fmt: skip
    [call] = store.tool_calls(first)
    assert (call.status, call.output, call.source) == ("answered", "sunny", "hand")
    assert store.get_run(after).status == "completed" and store.get_message(question).run_id == first
