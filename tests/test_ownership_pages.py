"""Another owner's ids, tried on every page (issue 13 item 4).

Whose rows a browser session sees is decided once per run (`app_pages._common.connection`, through
`playground.client.owner_for`): a key typed in the sidebar owns `key:<fingerprint>`; a key from the
environment or secrets is the deployment's, one team log (`local`); no key at all owns the session's
`session:<visitor>`. Owner A's log is written here through `Store(db_path, owner=...)` with A's owner
string as the app computes it, every row carrying the marker `qqalice`.

Each page is tried the way a real visitor reaches another owner's ids:
- the same browser session first works as A (its pickers, dialogs and session state then hold A's
  ids), then the key changes (typed, cleared, or typed over the deployment's): every id the session
  kept is now another owner's;
- ids put straight into what the page trusts: session state (`thread_id`, `trace_run`,
  `resume_thread`, `assistant_id`, `cmp_last`, `confirm_delete`, `retry_id`, ...) and query
  parameters (`?assistant=`, `?thread=`), and buttons that act on them.
Each time: nothing of A's is drawn (names, messages, versions, traces, files), A's rows are as they
were, and the page shows no exception (an id that is not yours behaves like one that does not exist).
A's session showing the marker first is the control that the probes look where A's data would be.

Deployment-key case ("one team log"): everyone on the deployment's key is one owner, `local`; the
other owners there are a visitor who types their own key (the team's log is not theirs, theirs is
not the team's) and, without a deployment key, a visitor with no key at all (`session:`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from streamlit.elements.widgets import button as button_module
from streamlit.testing.v1 import AppTest

from playground.assistant import AssistantConfig
from playground.client import ApiKey, owner_for
from playground.store import LOCAL_OWNER, Store
from tests.conftest import TEST_KEY
from tests.pages import APP

A_MARK, B_MARK = "qqalice", "qqbob"
A_KEY = "sk-owner-one-0123456789abcdefXYZ"
B_KEY = "sk-owner-two-0123456789abcdefUVW"
VISITOR = "0123456789abcdef"  # the browser session's id (`visitor` in session state)
SESSION_OWNER = f"session:{VISITOR}"


def typed_owner(key: str) -> str:
    """The owner a visitor who typed `key` in the sidebar gets (as the app computes it)."""
    return owner_for(ApiKey(key, "sidebar"))


@dataclass(frozen=True)
class Case:
    """Who A and B are: the key each types (None: none typed), and whether a deployment key is set."""

    name: str
    deployment_key: bool
    a_key: str | None
    b_key: str | None

    @property
    def a_owner(self) -> str:
        return self._owner(self.a_key)

    @property
    def b_owner(self) -> str:
        return self._owner(self.b_key)

    def _owner(self, typed: str | None) -> str:
        if typed:
            return typed_owner(typed)
        return LOCAL_OWNER if self.deployment_key else SESSION_OWNER


CASES = [
    # Two visitors with their own keys (or one session whose key changes).
    Case("typed-key-to-typed-key", deployment_key=False, a_key=A_KEY, b_key=B_KEY),
    # One team log: the team's rows, then a visitor who types their own key on the deployment.
    Case("team-log-to-typed-key", deployment_key=True, a_key=None, b_key=B_KEY),
    # A visitor's own key's rows, then the key cleared: the team's log.
    Case("typed-key-to-team-log", deployment_key=True, a_key=A_KEY, b_key=None),
    # Without a deployment key: a typed key's rows, then the key cleared: the session's own.
    Case("typed-key-to-no-key", deployment_key=False, a_key=A_KEY, b_key=None),
]
ids = [c.name for c in CASES]


@dataclass
class Seeded:
    assistant: int
    archived: int
    versions: list[int]
    thread: int  # a chat with a reply, a trace and a generated file
    run: int
    failed_thread: int
    failed_message: int
    calls_thread: int  # waiting for a function's output
    test_set: int
    replays: list[int]
    file_row: int


def store_id(mark: str) -> str:
    """An owner's vector store id (without the marker: a typed id is shown back as typed)."""
    return f"vs_{len(mark)}"


def code_file_id(mark: str) -> str:
    return f"file-ci-{len(mark)}"


def seed(log: Store, mark: str) -> Seeded:
    """An owner's log: assistants and versions, threads with messages and runs (one failed, one waiting
    for function outputs), a generated file, uploaded files and a vector store, a test set replayed twice."""
    a = log.create_assistant()
    v1, _ = log.save_version(
        a.id, AssistantConfig(name=f"{mark} bot", instructions=f"{mark} instructions one"), note=f"{mark} note"
    )
    v2, _ = log.save_version(a.id, AssistantConfig(name=f"{mark} bot", instructions=f"{mark} instructions two"))
    hidden = log.create_assistant()
    log.save_version(hidden.id, AssistantConfig(name=f"{mark} archived", instructions="Old."))
    log.archive_assistant(hidden.id)

    thread = log.create_thread(a.id)
    user, run = log.start_turn(thread.id, f"{mark} question", v2.id, "gpt-4.1-mini")
    citation = {"type": "container_file_citation", "container_id": "cntr_1", "file_id": "cfile_1"}
    response = {
        "id": "resp_1",
        "output": [
            {"type": "code_interpreter_call", "code": f"print('{mark} code')", "container_id": "cntr_1", "outputs": []},
            {
                "type": "message",
                "content": [
                    {
                        "type": "output_text",
                        "text": f"{mark} answer",
                        "annotations": [{**citation, "filename": f"{mark}.csv"}],
                    }
                ],
            },
        ],
    }
    log.finish_turn(
        run, user_message_id=user, user_status="complete", reply=f"{mark} answer", reply_status="complete",
        thread_id=thread.id, version_id=v2.id, status="completed", input_tokens=10, output_tokens=5,
        total_tokens=15, latency_ms=100.0, request=json.dumps({"input": f"{mark} raw request"}),
        response=json.dumps(response),
    )  # fmt: skip
    log.add_run_files(run, [("cntr_1", "cfile_1", f"{mark}.csv", f"{mark} bytes".encode(), None)])

    failed = log.create_thread(a.id)
    failed_user, failed_run = log.start_turn(failed.id, f"{mark} failed question", v2.id, "gpt-4.1-mini")
    log.finish_turn(
        failed_run, user_message_id=failed_user, user_status="failed", reply=None, reply_status="failed",
        thread_id=failed.id, version_id=v2.id, status="failed", error=f"{mark} upstream error",
    )  # fmt: skip

    calls = log.create_thread(a.id)
    calls_user, calls_run = log.start_turn(calls.id, f"{mark} call a function", v2.id, "gpt-4.1-mini")
    log.finish_turn(
        calls_run, user_message_id=calls_user, user_status="complete", reply=None, reply_status="complete",
        thread_id=calls.id, version_id=v2.id, status="requires_action",
        tool_calls=[("call_1", f"{mark}_lookup", json.dumps({"q": mark}), [])],
    )  # fmt: skip

    set_id = log.create_test_set(f"{mark} set", [f"{mark} case"], sources=[thread.id])
    [case] = log.test_cases(set_id)
    replays = []
    for n in range(2):
        replay = log.start_replay(set_id, v2.id)
        log.add_replay_result(
            replay, case["id"], output=f"{mark} replay output {n}", status="completed", total_tokens=15,
            latency_ms=100.0, error=f"{mark} replay error" if n else None,
        )  # fmt: skip
        log.finish_replay(replay, "completed")
        replays.append(replay)

    log.add_vector_store(store_id(mark), f"{mark} store")
    file_row = log.add_file(
        f"file-fs-{len(mark)}",
        f"{mark}-notes.txt",
        42,
        "file_search",
        vector_store_id=store_id(mark),
        status="completed",
    )
    log.add_file(code_file_id(mark), f"{mark}-data.csv", 42, "code_interpreter", status="uploaded")
    return Seeded(
        a.id, hidden.id, [v1.id, v2.id], thread.id, run, failed.id, failed_user, calls.id, set_id, replays, file_row
    )


# -- what A owns, as rows, and what a page shows ---------------------------------------------------

OWNED = {
    "assistants": "SELECT * FROM assistants WHERE owner = :o",
    "assistant_versions": "SELECT v.* FROM assistant_versions v JOIN assistants a ON a.id = v.assistant_id "
    "WHERE a.owner = :o",
    "drafts": "SELECT d.* FROM drafts d JOIN assistants a ON a.id = d.assistant_id WHERE a.owner = :o",
    "threads": "SELECT t.* FROM threads t JOIN assistants a ON a.id = t.assistant_id WHERE a.owner = :o",
    "messages": "SELECT m.* FROM messages m JOIN threads t ON t.id = m.thread_id "
    "JOIN assistants a ON a.id = t.assistant_id WHERE a.owner = :o",
    "runs": "SELECT r.* FROM runs r JOIN threads t ON t.id = r.thread_id JOIN assistants a ON a.id = t.assistant_id "
    "WHERE a.owner = :o",
    "tool_calls": "SELECT c.* FROM tool_calls c JOIN threads t ON t.id = c.thread_id "
    "JOIN assistants a ON a.id = t.assistant_id WHERE a.owner = :o",
    "run_files": "SELECT f.* FROM run_files f JOIN runs r ON r.id = f.run_id JOIN threads t ON t.id = r.thread_id "
    "JOIN assistants a ON a.id = t.assistant_id WHERE a.owner = :o",
    "test_sets": "SELECT * FROM test_sets WHERE owner = :o",
    "test_cases": "SELECT c.* FROM test_cases c JOIN test_sets s ON s.id = c.set_id WHERE s.owner = :o",
    "replays": "SELECT r.* FROM replays r JOIN test_sets s ON s.id = r.set_id WHERE s.owner = :o",
    "replay_results": "SELECT x.* FROM replay_results x JOIN replays r ON r.id = x.replay_id "
    "JOIN test_sets s ON s.id = r.set_id WHERE s.owner = :o",
    "files": "SELECT * FROM files WHERE owner = :o",
    "vector_stores": "SELECT * FROM vector_stores WHERE owner = :o",
}


def owned_rows(db_path, owner: str) -> dict[str, list[tuple]]:
    """Every row `owner` has, read straight from the file (not through the store under test)."""
    conn = sqlite3.connect(db_path)
    try:
        return {table: sorted(conn.execute(sql, {"o": owner}).fetchall()) for table, sql in OWNED.items()}
    finally:
        conn.close()


def page_text(at: AppTest) -> str:
    """Everything the page sent to the browser (every element's message, tables' bytes included),
    lower-cased: where a name, message, trace or file of A's would be."""
    text = "\n".join(str(node.proto) for node in at if getattr(node, "proto", None) is not None)
    return text.replace("\\", "").lower()  # markdown escapes (markup.literal) taken off: "a\\-b" reads "a-b"


def shows(at: AppTest, mark: str) -> bool:
    return mark in page_text(at)


def clean(at: AppTest) -> None:
    """No exception, and nothing of A's drawn."""
    assert not at.exception, at.exception
    assert not shows(at, A_MARK), [line for line in page_text(at).splitlines() if A_MARK in line][:5]


SERVED: dict[str, Callable[[], Any]] = {}  # label → what its download button serves (the last run's)


@pytest.fixture(autouse=True)
def _served(monkeypatch):
    """AppTest has no runtime to keep a download button's deferred data in: keep it here instead."""
    original = button_module.marshall_file

    def marshall_file(coordinates, data, proto, mimetype, file_name=None, **kwargs):
        if callable(data):
            SERVED[proto.label] = data
        return original(coordinates, data, proto, mimetype, file_name, **kwargs)

    SERVED.clear()
    monkeypatch.setattr(button_module, "marshall_file", marshall_file)
    yield
    SERVED.clear()


def downloads(at: AppTest) -> dict[str, bytes]:
    """What the page's download buttons serve (label → bytes), produced as a click would."""
    drawn = {button.proto.label for button in at.get("download_button")}
    out = {}
    for name, data in SERVED.items():
        if name in drawn:
            served = data()
            out[name] = served.encode() if isinstance(served, str) else bytes(served)
    return out


# -- the visitor ---------------------------------------------------------------------------------


@pytest.fixture
def world(request, upstream, db_path, monkeypatch):
    """A's log seeded; a browser session working as A; B's log seeded. Returns (case, session, A, B)."""
    case: Case = request.param
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    if case.deployment_key:
        monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    else:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    a = seed(Store(db_path, owner=case.a_owner), A_MARK)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["visitor"] = VISITOR
    at.run()
    if case.a_key:
        at.text_input(key="api_key").input(case.a_key).run()
    assert not at.exception, at.exception
    assert at.session_state["owner"] == case.a_owner
    # Seeded after A's session started: a session's rows would move to A's key when A typed it.
    b = seed(Store(db_path, owner=case.b_owner), B_MARK)
    return case, at, a, b


def become_b(at: AppTest, case: Case) -> None:
    """The same browser session, now B: the key typed over, or cleared."""
    at.text_input(key="api_key").input(case.b_key or "").run()
    assert at.session_state["owner"] == case.b_owner


def fresh_b(case: Case, **query: str) -> AppTest:
    """A new browser session of B's, opened at an address with `query` (a link of A's, say)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["visitor"] = VISITOR
    if case.b_key:
        at.session_state["api_key"] = case.b_key  # typed earlier in this browser session
    for name, value in query.items():
        at.query_params[name] = value
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


worlds = pytest.mark.parametrize("world", CASES, ids=ids, indirect=True)


# -- the pages -----------------------------------------------------------------------------------


@worlds
def test_playground_never_opens_another_owners_assistant_thread_trace_or_files(world, db_path, upstream):
    case, at, a, _b = world
    # A opens their assistant, its thread and a turn's trace: all of it is on the page.
    at.sidebar.selectbox[0].set_value(a.assistant).run()
    at.button(key=f"thread.{a.thread}").click().run()
    reply = next(m for m in Store(db_path, owner=case.a_owner).list_messages(a.thread) if m.role == "assistant")
    at.button(key=f"trace.{reply.id}").click().run()
    assert not at.exception, at.exception
    assert at.session_state["trace_run"] == a.run
    text = page_text(at)
    assert f"{A_MARK} question" in text and f"{A_MARK} raw request" in text
    assert downloads(at) == {f"{A_MARK}.csv (0.0 KB)": f"{A_MARK} bytes".encode()}  # the file the turn made
    before = owned_rows(db_path, case.a_owner)
    sent = len(upstream.requests)

    # The key changes: the session still holds A's assistant, thread and trace.
    become_b(at, case)
    clean(at)
    assert at.session_state["assistant_id"] != a.assistant
    assert at.query_params.get("thread") != str(a.thread)
    assert "This turn is not in the log any more." in [e.value for e in at.info]

    # A's ids put where the page trusts them, one at a time.
    for name, value in {
        "thread_id": a.thread,
        "trace_run": a.run,
        "resume_thread": a.thread,
        "history_window." + str(a.thread): 500,
    }.items():
        at.session_state[name] = value
        at.run()
        clean(at)
    at.session_state["assistant_id"] = a.assistant  # B's assistant is loaded: only the id says A's
    at.run()
    clean(at)
    at.session_state["assistant_id"] = a.assistant
    at.session_state["loaded_assistant"] = None
    at.session_state["resume_thread"] = a.thread
    at.run()
    clean(at)
    at.session_state["thread_id"] = a.failed_thread
    at.session_state["retry_id"] = a.failed_message
    at.run()
    clean(at)
    at.session_state["thread_id"] = a.calls_thread  # A's function calls waiting: not offered to B
    at.run()
    clean(at)
    assert "send_outputs" not in [button.key for button in at.button]

    # Place a message into A's thread: refused like a thread that does not exist.
    at.session_state["thread_id"] = a.thread
    at.text_area(key="place.text").input("from B").run()
    at.session_state["thread_id"] = a.thread
    at.button(key="place_send").click().run()
    clean(at)
    assert at.session_state["place.problem"].startswith(f"No thread {a.thread}")  # as for no thread at all

    assert owned_rows(db_path, case.a_owner) == before
    if case.b_key is None and not case.deployment_key:
        return  # no key: no file pickers (they list the key's files upstream)
    # A's files: their vector store's and file's ids typed in; only B's own rows are listed.
    at.toggle(key="cfg.file_search").set_value(True).run()
    at.text_input(key="cfg.vector_store_ids").input(f"{store_id(A_MARK)}, {store_id(B_MARK)}").run()
    at.selectbox(key="fs_target").set_value(store_id(A_MARK)).run()
    clean(at)
    at.selectbox(key="fs_target").set_value(store_id(B_MARK)).run()
    clean(at)
    assert f"{B_MARK}-notes.txt" in page_text(at)
    at.toggle(key="cfg.code_interpreter").set_value(True).run()
    at.text_input(key="cfg.code_file_ids").input(f"{code_file_id(A_MARK)}, {code_file_id(B_MARK)}").run()
    clean(at)
    assert f"{B_MARK}-data.csv" in page_text(at)

    assert owned_rows(db_path, case.a_owner) == before
    assert [r for r in upstream.requests[sent:] if r["path"].endswith(("/responses", "/chat/completions"))] == []


@worlds
def test_playground_links_with_another_owners_ids_open_nothing_of_theirs(world, db_path):
    case, _, a, b = world
    before = owned_rows(db_path, case.a_owner)
    at = fresh_b(case, assistant=str(a.assistant), thread=str(a.thread)).run()
    clean(at)
    assert at.session_state["owner"] == case.b_owner
    assert at.query_params["assistant"] != str(a.assistant) and at.query_params.get("thread") != str(a.thread)
    # B's assistant with A's thread: the thread is not B's assistant's, nor B's at all.
    mixed = fresh_b(case, assistant=str(b.assistant), thread=str(a.thread)).run()
    clean(mixed)
    assert mixed.query_params["assistant"] == str(b.assistant) and mixed.query_params.get("thread") != str(a.thread)
    # B's own link still works the same way.
    mine = fresh_b(case, assistant=str(b.assistant), thread=str(b.thread)).run()
    assert not mine.exception, mine.exception
    assert f"{B_MARK} question" in page_text(mine)
    assert owned_rows(db_path, case.a_owner) == before


@worlds
def test_assistants_page_lists_and_acts_on_no_other_owners_assistant(world, db_path):
    case, at, a, _b = world
    open_page(at, "app_pages/assistants.py")
    at.toggle(key="assistants_archived").set_value(True).run()
    at.selectbox(key="assistants_pick").set_value(a.archived).run()
    assert shows(at, f"{A_MARK} archived")
    before = owned_rows(db_path, case.a_owner)

    become_b(at, case)  # the picker held A's archived assistant
    clean(at)
    assert at.selectbox(key="assistants_pick").value != a.archived
    assert shows(at, f"{B_MARK} bot")
    for action in ("clone", "archive"):  # whatever is picked now is B's
        picked = at.selectbox(key="assistants_pick").value
        at.button(key=f"{action}_{picked}").click().run()
        clean(at)
    picked = at.selectbox(key="assistants_pick").value
    at.button(key=f"versions_{picked}").click().run()
    clean(at)
    assert owned_rows(db_path, case.a_owner) == before


@worlds
def test_versions_page_shows_diffs_notes_and_restores_only_your_own(world, db_path):
    case, at, a, b = world
    at.session_state["versions_assistant"] = a.assistant
    open_page(at, "app_pages/versions.py")
    assert at.selectbox(key="versions_pick").value == a.assistant
    assert shows(at, f"{A_MARK} instructions two")
    before = owned_rows(db_path, case.a_owner)

    become_b(at, case)
    clean(at)
    assert at.selectbox(key="versions_pick").value != a.assistant
    # AppTest formats a picker's kept value with the new labels before sending it (a browser sends the
    # label it shows): the note picker's kept id of A's has no label among B's, so B picks one.
    at.selectbox(key="note_pick").set_value(b.versions[1])
    for name, value in {"versions_assistant": a.assistant, "assistant_id": a.assistant}.items():
        at.session_state[name] = value
        at.run()
        clean(at)
    # Notes and restore act on what is picked: B's versions.
    note_for = at.selectbox(key="note_pick").value
    at.text_input(key=f"note_text_{note_for}").input("B's note").run()
    at.button(key="note_save").click().run()
    clean(at)
    at.button(key="restore").click().run()
    clean(at)
    assert set(downloads(at)) and all(A_MARK.encode() not in data for data in downloads(at).values())
    assert owned_rows(db_path, case.a_owner) == before


@worlds
def test_compare_shows_no_other_owners_results_and_continues_none_of_them(world, db_path):
    case, at, a, b = world
    at.session_state["assistant_id"] = a.assistant
    at.session_state["cmp_last"] = {"owner": case.a_owner, "sides": [(a.thread, a.run), (a.thread, a.run)]}
    open_page(at, "app_pages/compare.py")
    assert at.selectbox(key="cmp_left_a").value == a.assistant and shows(at, f"{A_MARK} answer")
    before = owned_rows(db_path, case.a_owner)

    become_b(at, case)  # the pickers and the last compare are A's
    clean(at)
    assert "cmp_last" not in at.session_state
    # A's sides kept under B's owner (a forged tag): nothing to show, nothing to continue.
    at.session_state["cmp_last"] = {"owner": case.b_owner, "sides": [(a.thread, a.run), (a.thread, a.run)]}
    at.session_state["assistant_id"] = a.assistant
    at.run()
    clean(at)
    assert not [button for button in at.button if str(button.key).startswith("cmp_continue_")]
    # B's own last compare, with A's thread beside B's run: the reply is read from B's threads only.
    [b_run] = [r.id for r in Store(db_path, owner=case.b_owner).list_runs(b.thread)]
    at.session_state["cmp_last"] = {"owner": case.b_owner, "sides": [(b.thread, b_run), (a.thread, b_run)]}
    at.run()
    clean(at)
    if case.b_key or case.deployment_key:  # without a key the page stops at its setup panel
        at.button(key="cmp_continue_B").click().run()
        clean(at)
    assert owned_rows(db_path, case.a_owner) == before


@worlds
def test_test_sets_page_shows_and_replays_no_other_owners_set(world, db_path, upstream):
    case, at, a, b = world
    at.session_state["ts_pick"] = a.test_set
    open_page(at, "app_pages/test_sets.py")
    at.selectbox(key="ts_baseline").set_value(a.replays[0]).run()
    assert shows(at, f"{A_MARK} replay output") and shows(at, f"{A_MARK} case")
    before = owned_rows(db_path, case.a_owner)
    sent = len(upstream.requests)

    become_b(at, case)  # the set, replay and baseline pickers held A's ids
    clean(at)
    assert at.selectbox(key="ts_pick").value == b.test_set
    # A new set from conversations lists B's only; saving it takes none of A's messages.
    at.text_input(key="ts_name").input("B's set").run()
    at.button(key="ts_save").click().run()
    clean(at)
    assert downloads(at) and all(A_MARK.encode() not in data for data in downloads(at).values())
    assert owned_rows(db_path, case.a_owner) == before
    assert len(upstream.requests) == sent


@worlds
def test_conversations_page_reads_exports_and_deletes_no_other_owners_thread(world, db_path):
    case, at, a, _b = world
    open_page(at, "app_pages/conversations.py")
    at.selectbox(key="conv_open").set_value(a.thread).run()
    reply = next(m for m in Store(db_path, owner=case.a_owner).list_messages(a.thread) if m.role == "assistant")
    at.button(key=f"trace.{reply.id}").click().run()
    assert shows(at, f"{A_MARK} raw request") and shows(at, f"{A_MARK} answer")
    at.button(key="trace_close").click().run()
    at.button(key="conv_delete").click().run()  # the confirmation is open on A's thread
    assert at.session_state["confirm_delete"] == a.thread
    assert any(A_MARK.encode() in data for data in downloads(at).values())
    before = owned_rows(db_path, case.a_owner)

    become_b(at, case)
    clean(at)
    assert "dlg_delete_yes" not in [button.key for button in at.button]
    assert at.selectbox(key="conv_open").value != a.thread
    exported = downloads(at)
    assert set(exported) >= {"CSV", "Markdown"}
    assert all(A_MARK.encode() not in data for data in exported.values())

    at.text_input(key="conv_search").input(A_MARK).run()
    assert not at.exception and f"0 conversations match “{A_MARK}”." in [c.value for c in at.caption]
    at.text_input(key="conv_search").input("question").run()  # in A's messages and in B's
    clean(at)
    assert shows(at, f"{B_MARK} question")
    at.text_input(key="conv_search").input("").run()
    at.session_state["confirm_delete"] = a.thread
    at.run()
    clean(at)
    assert "dlg_delete_yes" not in [button.key for button in at.button]
    at.session_state["trace_run"] = a.run
    at.run()
    clean(at)
    assert "This turn is not in the log any more." in [e.value for e in at.info]
    del at.session_state["trace_run"]  # the dialog dismissed (Esc), as a browser does
    # Resume and delete act on what is open: B's thread.
    at.button(key="conv_delete").click().run()
    at.button(key="dlg_delete_yes").click().run()
    clean(at)
    at.button(key="conv_ts_save").click().run()  # no name: refused, with a sentence
    clean(at)
    assert owned_rows(db_path, case.a_owner) == before


@worlds
def test_usage_page_counts_no_other_owners_runs(world, db_path):
    case, at, _a, _b = world
    open_page(at, "app_pages/usage.py")
    at.segmented_control(key="usage_period").set_value("All").run()
    assert shows(at, f"{A_MARK} bot")
    before = owned_rows(db_path, case.a_owner)

    become_b(at, case)
    clean(at)
    assert shows(at, f"{B_MARK} bot")
    assert owned_rows(db_path, case.a_owner) == before


def test_one_team_log_is_one_owner_for_everyone_on_the_deployment_key(upstream, db_path, monkeypatch):
    """Where the deployment's key is set, its visitors are one owner (docs/decisions.md: "a deployment key
    means one team log"): a teammate's rows are not another owner's, so they are shown; the other owners
    on such a deployment are the visitors who type their own key (the cases above)."""
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    team = seed(Store(db_path), A_MARK)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["assistant"], at.query_params["thread"] = str(team.assistant), str(team.thread)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["owner"] == LOCAL_OWNER
    assert any(A_MARK in button.label for button in at.sidebar.button)  # the thread list (and the probes see it)
    assert shows(at, f"{A_MARK} question") and shows(at, f"{A_MARK} answer")
