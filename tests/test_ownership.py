"""One ownership rule (issue 13 item 4): every store method that takes an id refuses another owner's.

Alice builds a log of everything the store keeps (assistant, draft, versions, threads, messages, runs,
function calls, files, generated files, a test set and a replay); Bob, on the same file, tries each
id-taking method on her ids. A read gives None (or nothing, for a list), a write raises LookupError,
and either way the file is exactly as it was: nothing of Alice's changes. A last test fails when a
new id-taking method is added without a case here (or a place among the process-level methods).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from playground.assistant import AssistantConfig
from playground.store import Store


@dataclass
class World:
    """Alice's ids."""

    assistant: int
    version: int
    thread: int
    user_message: int
    run: int  # finished, with a function call pending an answer
    live_run: int  # in progress, on a second thread
    live_thread: int
    live_message: int
    file: int
    vector_store: str
    run_file: int
    test_set: int
    case: int
    replay: int


@pytest.fixture
def pair(tmp_path) -> tuple[Store, Store, World]:
    path = tmp_path / "log.db"
    alice, bob = Store(path, owner="key:alice"), Store(path, owner="key:bob")
    config = AssistantConfig(name="Alice's", model="gpt-5")
    assistant = alice.create_assistant(config)
    version, _ = alice.save_version(assistant.id, config)
    alice.set_unsent(assistant.id, "draft text")
    thread = alice.create_thread(assistant.id)
    message, run = alice.start_turn(thread.id, "hello", version.id, "gpt-5")
    alice.finish_turn(
        run,
        user_message_id=message,
        user_status="complete",
        reply="hi",
        reply_status="complete",
        thread_id=thread.id,
        version_id=version.id,
        tool_calls=[("call_1", "lookup", "{}", [])],
        status="requires_action",
    )
    alice.add_run_files(run, [("cntr_1", "file_gen", "out.csv", b"a,b", None)])
    live_thread = alice.create_thread(assistant.id)
    live_message, live_run = alice.start_turn(live_thread.id, "slow", version.id, "gpt-5")
    alice.add_vector_store("vs_alice", "Alice's store")
    file = alice.add_file("file_a", "a.pdf", 3, "file_search", vector_store_id="vs_alice")
    test_set = alice.create_test_set("set", ["q1"], sources=[thread.id])
    case = alice.test_cases(test_set)[0]["id"]
    replay = alice.start_replay(test_set, version.id)
    alice.add_replay_result(replay, case, output="o", status="completed", thread_id=thread.id, run_id=run)
    run_file = alice.run_files([run])[0].id
    world = World(
        assistant.id,
        version.id,
        thread.id,
        message,
        run,
        live_run,
        live_thread.id,
        live_message,
        file,
        "vs_alice",
        run_file,
        test_set,
        case,
        replay,
    )
    return alice, bob, world


Probe = Callable[[Store, World], Any]

# Reads: another owner's id reads as None, or as nothing (an empty list, 0, no bytes).
READS: dict[str, tuple[Probe, Any]] = {
    "get_assistant": (lambda s, w: s.get_assistant(w.assistant), None),
    "get_version": (lambda s, w: s.get_version(w.version), None),
    "get_thread": (lambda s, w: s.get_thread(w.thread), None),
    "get_message": (lambda s, w: s.get_message(w.user_message), None),
    "get_run": (lambda s, w: s.get_run(w.run), None),
    "get_test_set": (lambda s, w: s.get_test_set(w.test_set), None),
    "get_replay": (lambda s, w: s.get_replay(w.replay), None),
    "list_messages": (lambda s, w: s.list_messages(w.thread), []),
    "count_messages": (lambda s, w: s.count_messages(w.thread), 0),
    "list_runs": (lambda s, w: s.list_runs(w.thread), []),
    "tool_calls": (lambda s, w: s.tool_calls(w.run), []),
    "thread_tool_calls": (lambda s, w: s.thread_tool_calls(w.thread), []),
    "pending_run": (lambda s, w: s.pending_run(w.thread), None),
    "running_run": (lambda s, w: s.running_run(w.live_thread), None),
    "run_files": (lambda s, w: s.run_files([w.run]), []),
    "run_file_content": (lambda s, w: s.run_file_content(w.run_file), b""),
    "list_files": (lambda s, w: s.list_files(vector_store_id=w.vector_store), []),
    "list_replays": (lambda s, w: s.list_replays(w.test_set), []),
    "replay_results": (lambda s, w: s.replay_results(w.replay), []),
    "replay_done_cases": (lambda s, w: s.replay_done_cases(w.replay), set()),
    "conversations": (lambda s, w: s.conversations(assistant_id=w.assistant, kinds=None), []),
    "conversation_ids": (lambda s, w: s.conversation_ids(version_id=w.version, kinds=None), []),
    "search": (lambda s, w: s.search("hello", thread_ids=[w.thread]), []),
}

# Writes (and the reads of an assistant's draft and versions, which raise as they always have):
# another owner's id raises LookupError, and nothing is written.
WRITES: dict[str, Probe] = {
    "archive_assistant": lambda s, w: s.archive_assistant(w.assistant),
    "clone_assistant": lambda s, w: s.clone_assistant(w.assistant),
    "save_draft": lambda s, w: s.save_draft(w.assistant, AssistantConfig(name="Bob's")),
    "set_unsent": lambda s, w: s.set_unsent(w.assistant, None),
    "get_unsent": lambda s, w: s.get_unsent(w.assistant),
    "get_draft": lambda s, w: s.get_draft(w.assistant),
    "latest_version": lambda s, w: s.latest_version(w.assistant),
    "list_versions": lambda s, w: s.list_versions(w.assistant),
    "save_version": lambda s, w: s.save_version(w.assistant, AssistantConfig(name="Bob's", model="gpt-5")),
    "set_version_note": lambda s, w: s.set_version_note(w.version, "Bob was here"),
    "create_thread": lambda s, w: s.create_thread(w.assistant),
    "list_threads": lambda s, w: s.list_threads(w.assistant),
    "rename_thread": lambda s, w: s.rename_thread(w.thread, "Bob's now"),
    "set_thread_kind": lambda s, w: s.set_thread_kind(w.thread, "replay"),
    "set_thread_api": lambda s, w: s.set_thread_api(w.live_thread, "chat"),
    "set_conversation": lambda s, w: s.set_conversation(w.thread, "conv_bob"),
    "delete_thread": lambda s, w: s.delete_thread(w.thread),
    "add_message": lambda s, w: s.add_message(w.thread, "user", "from Bob"),
    "place_message": lambda s, w: s.place_message(w.thread, "user", "from Bob"),
    "start_run": lambda s, w: s.start_run(w.thread, None, w.user_message, "m"),
    "start_turn": lambda s, w: s.start_turn(w.thread, "from Bob", None, "m"),
    "update_run": lambda s, w: s.update_run(w.run, status="failed"),
    "checkpoint": lambda s, w: s.checkpoint(w.live_run, "Bob's text"),
    "finish_turn": lambda s, w: s.finish_turn(
        w.live_run,
        user_message_id=w.live_message,
        user_status="complete",
        reply="from Bob",
        reply_status="complete",
        thread_id=w.live_thread,
        version_id=None,
        status="completed",
    ),
    "add_tool_calls": lambda s, w: s.add_tool_calls(w.run, w.thread, [("call_b", "f", "{}", [])]),
    "set_tool_outputs": lambda s, w: s.set_tool_outputs(w.run, {"call_1": ("Bob's", "manual")}, answered=True),
    "add_run_files": lambda s, w: s.add_run_files(w.run, [(None, "file_b", "b.txt", b"b", None)]),
    "set_file_status": lambda s, w: s.set_file_status(w.file, "failed", "Bob"),
    "remove_file": lambda s, w: s.remove_file(w.file),
    "create_test_set": lambda s, w: s.create_test_set("Bob's", ["q"], sources=[w.thread]),
    "test_cases": lambda s, w: s.test_cases(w.test_set),
    "start_replay": lambda s, w: s.start_replay(w.test_set, w.version),
    "add_replay_result": lambda s, w: s.add_replay_result(w.replay, w.case, output="Bob's", status="completed"),
    "finish_replay": lambda s, w: s.finish_replay(w.replay, "failed"),
    "share_assistant": lambda s, w: s.share_assistant(w.assistant),
    "count_cases": lambda s, w: s.count_cases(w.test_set),
    "add_cases": lambda s, w: s.add_cases(w.test_set, [{"input": "Bob's"}]),
    "update_case": lambda s, w: s.update_case(w.case, {"input": "Bob's"}),
    "delete_cases": lambda s, w: s.delete_cases([w.case]),
    "duplicate_case": lambda s, w: s.duplicate_case(w.case),
    "set_graders": lambda s, w: s.set_graders(w.test_set, "[]"),
    "beat_replay": lambda s, w: s.beat_replay(w.replay),
    "resume_replay": lambda s, w: s.resume_replay(w.replay),
    "delete_replay": lambda s, w: s.delete_replay(w.replay),
}


def test_alice_sees_her_own(pair):
    """The control: every probe reaches something when Alice makes it."""
    alice, _, w = pair
    for name, (probe, nothing) in READS.items():
        assert probe(alice, w) != nothing, name


@pytest.mark.parametrize("name", sorted(READS))
def test_another_owners_id_reads_as_nothing(pair, name):
    alice, bob, w = pair
    probe, nothing = READS[name]
    before = alice.dump()
    assert probe(bob, w) == nothing
    assert alice.dump() == before


@pytest.mark.parametrize("name", sorted(WRITES))
def test_another_owners_id_is_refused_and_nothing_changes(pair, name):
    alice, bob, w = pair
    before = alice.dump()
    with pytest.raises(LookupError):
        WRITES[name](bob, w)
    assert alice.dump() == before


def test_a_write_naming_its_own_row_and_another_owners_is_refused(pair):
    """A write checks every id it is given, not only the first: Bob's own thread with Alice's version,
    run or case is refused."""
    alice, bob, w = pair
    mine = bob.create_assistant()
    thread = bob.create_thread(mine.id)
    message, run = bob.start_turn(thread.id, "mine", None, "m")
    before = alice.dump()
    tries: list[Callable[[], Any]] = [
        lambda: bob.add_message(thread.id, "assistant", "x", version_id=w.version),
        lambda: bob.add_message(thread.id, "assistant", "x", run_id=w.run),
        lambda: bob.start_turn(thread.id, "x", w.version, "m"),
        lambda: bob.start_run(thread.id, None, w.user_message, "m", attempt=True),
        lambda: bob.add_tool_calls(run, w.thread, [("c", "f", "{}", [])]),
        lambda: bob.finish_turn(
            run,
            user_message_id=w.user_message,
            user_status="complete",
            reply=None,
            reply_status="complete",
            thread_id=thread.id,
            version_id=None,
            status="completed",
        ),
        lambda: bob.finish_turn(
            run,
            user_message_id=message,
            user_status="complete",
            reply=None,
            reply_status="complete",
            thread_id=w.thread,
            version_id=None,
            status="completed",
        ),
    ]
    for attempt in tries:
        with pytest.raises(LookupError):
            attempt()
    assert alice.dump() == before  # Bob's own rows aside (the dump holds both owners' rows)
    set_id = bob.create_test_set("mine", ["q"])
    replay_version, _ = bob.save_version(mine.id, AssistantConfig(name="b", model="gpt-5"))
    replay = bob.start_replay(set_id, replay_version.id)
    before = alice.dump()
    with pytest.raises(LookupError):
        bob.add_replay_result(replay, w.case, output="x", status="completed")
    with pytest.raises(LookupError):
        bob.add_replay_result(replay, bob.test_cases(set_id)[0]["id"], output="x", status="ok", run_id=w.run)
    with pytest.raises(LookupError):
        bob.start_replay(set_id, w.version)
    assert alice.dump() == before


def test_a_vector_store_another_owner_keeps_stays_theirs(pair):
    alice, bob, w = pair
    bob.add_vector_store(w.vector_store, "Bob's name for it")
    assert bob.list_vector_stores() == []
    assert [s["name"] for s in alice.list_vector_stores()] == ["Alice's store"]


def test_the_lists_hold_none_of_another_owners_rows(pair):
    alice, bob, _ = pair
    assert alice.list_assistants() and alice.list_test_sets() and alice.list_files() and alice.usage()  # control
    assert bob.list_assistants(include_archived=True) == []
    assert bob.list_test_sets() == []
    assert bob.list_files() == []
    assert bob.filenames() == {}
    assert bob.list_vector_stores() == []
    assert bob.usage() == [] and bob.usage_by_assistant() == {} and bob.models() == []
    assert bob.search("hello") == []
    assert bob.conversations(kinds=None) == [] and bob.conversation_ids(kinds=None) == []


# Process-level methods: not one owner's (see the comments in playground/store.py), so outside the rule;
# `settle` and `uncharge` are the deployment's spending, counted per person, not an owner's rows.
PROCESS_LEVEL = {"hold_lease", "release_lease", "renew_leases", "recover_expired_runs", "adopt", "settle", "uncharge"}
# Methods whose id arguments are not row ids of the log's (upstream ids, a starting point).
NOT_ROW_IDS = {"add_file", "add_vector_store"}


def test_every_id_taking_method_is_tried():
    """A new method taking an id needs a case above (or a reason to be process-level)."""
    taking_ids = {
        name
        for name, method in inspect.getmembers(Store, inspect.isfunction)
        if not name.startswith("_")
        and any(p.endswith(("_id", "_ids")) or p == "sources" for p in inspect.signature(method).parameters)
    }
    tried = set(READS) | set(WRITES) | PROCESS_LEVEL | NOT_ROW_IDS
    assert taking_ids - tried == set()
