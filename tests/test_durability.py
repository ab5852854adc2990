"""Durability: concurrent sessions lose no rows; a process killed mid-stream loses at most a second."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from playground import turn
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.store import DB_NOW, Store
from tests.app_process import CHROMIUM, streamlit_server, wait_for_app
from tests.conftest import TEST_KEY
from tests.e2e.conftest import browser_type_launch_args  # noqa: F401 (Debian Chromium for the `page` fixture)

ROOT = Path(__file__).resolve().parents[1]
# The 8 sessions × 200 turns, in CI too: ~35 s on a shared 2-core machine (DURABILITY_TURNS overrides).
SESSIONS, TURNS = 8, int(os.environ.get("DURABILITY_TURNS", "200"))


def test_concurrent_sessions_lose_no_rows(tmp_path, upstream):
    db = tmp_path / "log.db"
    setup = Store(db)
    assistant = setup.create_assistant()
    version, _ = setup.save_version(assistant.id, AssistantConfig(name="Busy"))
    failures: list[str] = []

    def session(n: int) -> None:
        store = Store(db)  # each session its own Store, as each browser session has
        backend = ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))
        thread = store.create_thread(assistant.id)
        for i in range(TURNS):
            t = turn.start(store, backend, thread.id, version, f"s{n} q{i}")
            for _ in t.events():
                pass
            if t.result.status != "completed":
                failures.append(f"{n}/{i}: {t.result.problem}")

    threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    threads_ = setup.list_threads(assistant.id)
    assert len(threads_) == SESSIONS
    for thread in threads_:
        messages = setup.list_messages(thread.id, limit=10_000)
        assert len(messages) == 2 * TURNS
        assert all(m.status == "complete" for m in messages)
        assert [r.status for r in setup.list_runs(thread.id)] == ["completed"] * TURNS
    with setup.db() as database:
        counts = database.execute("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM runs)").fetchone()
        counts = tuple(counts)
        assert counts == (2 * SESSIONS * TURNS, SESSIONS * TURNS)  # 0 lost rows, 0 extra ones
        assert database.value("PRAGMA integrity_check") == "ok"


CHILD = """
import sys
from playground import turn
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.store import Store

db, base_url = sys.argv[1], sys.argv[2]
store = Store(db)
version = store.latest_version(1)
backend = ResponsesBackend(make_client(ApiKey("sk-child", "environment"), base_url))
t = turn.start(store, backend, 1, version, "tell me a long story")
for n, _ in enumerate(t.text_deltas()):
    if n == 4:
        print("STREAMING", flush=True)
"""


def test_a_process_killed_mid_stream_leaves_a_readable_log(tmp_path, upstream):
    db = tmp_path / "log.db"
    store = Store(db)
    assistant = store.create_assistant()
    store.save_version(assistant.id, AssistantConfig(name="Storyteller"))
    store.create_thread(assistant.id)
    store.add_message(1, "user", "an earlier message")
    upstream.script({"chunks": [f"word{i} " for i in range(40)], "gap": 0.3})

    short_lease = {**os.environ, "PLAYGROUND_RUN_LEASE_S": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), upstream.base_url],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env=short_lease,
    )  # fmt: skip
    assert child.stdout.readline().strip() == "STREAMING"  # 5 deltas in, ≥ 1 s: a checkpoint exists
    child.kill()  # SIGKILL: no finally, no cleanup
    child.wait()

    # Once the dead process's lease has run out, a new process opens the log: it is readable and the
    # cut turn is closed, its text kept.
    lease = f"SELECT lease_until < {DB_NOW} FROM runs WHERE status = 'in_progress'"
    while True:
        with store.db() as database:  # a read is one snapshot: each look is a read of its own
            if database.execute(lease).fetchone()[0]:
                break
        time.sleep(0.1)
    recover = "import sys; from playground.store import Store; Store(sys.argv[1])"
    subprocess.run([sys.executable, "-c", recover, str(db)], cwd=ROOT, check=True)
    messages = store.list_messages(1)
    assert [(m.role, m.status) for m in messages] == [
        ("user", "complete"),
        ("user", "failed"),
        ("assistant", "incomplete"),
    ]
    assert messages[0].content == "an earlier message" and messages[1].content == "tell me a long story"
    assert messages[2].content.startswith("word0 word1 word2")
    [run] = store.list_runs(1)
    assert run.status == "incomplete" and "Interrupted" in run.error
    with store.db() as database:
        assert database.value("PRAGMA integrity_check") == "ok"


# -- the app server itself killed mid-stream (a real `streamlit run`, driven by Chromium) ----------


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("PLAYGROUND_SKIP_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message)


def _send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


@pytest.mark.e2e
def test_the_app_server_killed_mid_stream_loses_nothing(tmp_path, upstream, chromium, page):
    db = tmp_path / "log.db"
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": TEST_KEY, "PLAYGROUND_DB": str(db)}
    env["PLAYGROUND_RUN_LEASE_S"] = "3"  # the dead process's lease runs out soon after the restart
    page.set_default_timeout(20_000)
    # .last: a finished reply can briefly show twice (the streamed copy and the rerun's), as in tests/e2e.
    replies = page.get_by_test_id("stChatMessage")
    with streamlit_server(ROOT / "app.py", env, tmp_path / "before.log") as server:
        page.goto(server.url)
        wait_for_app(page)
        name = page.locator(".st-key-cfg-name input")
        name.fill("Storyteller")
        name.press("Tab")
        wait_for_app(page)
        page.locator(".st-key-save_version button").click()
        wait_for_app(page)
        _send(page, "first question")
        expect(replies.filter(has_text="Echo: first question").last).to_be_visible()
        wait_for_app(page)

        upstream.script({"chunks": [f"word{i} " for i in range(60)], "gap": 0.3})
        _send(page, "tell me a long story")
        expect(replies.filter(has_text="word5").last).to_be_visible()  # > 1 s of streaming: a checkpoint exists
        os.kill(server.pid, signal.SIGKILL)  # no finally, no cleanup, no settle
        query = page.url.split("?", 1)[1]

    # Before any process opens it again: the file is sound and the turn is still open, its text checkpointed.
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [(status, partial)] = raw.execute("SELECT status, partial FROM runs ORDER BY id DESC LIMIT 1").fetchall()
    raw.close()
    assert status == "in_progress" and partial.startswith("word0 word1 word2 word3"), (status, partial)

    # The app starts again on the same log: once the dead process's lease has run out, the cut turn is
    # closed as incomplete (at open, or by the page waiting for it), Retry is offered, nothing else moves.
    with streamlit_server(ROOT / "app.py", env, tmp_path / "after.log") as server:
        page.goto(f"{server.url}/?{query}")
        expect(page.locator(".st-key-retry button")).to_be_visible()
        wait_for_app(page)
        store = Store(db)
        [thread] = store.list_threads(store.list_assistants()[0]["id"])
        messages = store.list_messages(thread.id)
        assert [(m.role, m.status) for m in messages] == [
            ("user", "complete"),
            ("assistant", "complete"),
            ("user", "failed"),
            ("assistant", "incomplete"),
        ]
        assert [m.content for m in messages[:3]] == ["first question", "Echo: first question", "tell me a long story"]
        assert messages[3].content == partial
        first, cut = store.list_runs(thread.id)
        assert first.status == "completed" and cut.status == "incomplete" and "Interrupted" in cut.error
        with store.db() as database:
            assert database.value("PRAGMA integrity_check") == "ok"

        # In the browser: the kept partial reply, and Retry sends the question once more, not twice.
        expect(replies.filter(has_text="word0 word1 word2 word3").last).to_be_visible()
        page.locator(".st-key-retry button").click()
        expect(replies.filter(has_text="Echo: tell me a long story").last).to_be_visible()
        wait_for_app(page)
        users = [m.content for m in store.list_messages(thread.id) if m.role == "user"]
        assert users == ["first question", "tell me a long story"]
        conversation = store.get_thread(thread.id).conversation_id
        texts = ["".join(p.get("text", "") for p in i["content"]) for i in upstream.items(conversation)]
        assert texts == ["first question", "Echo: first question", "tell me a long story", "Echo: tell me a long story"]
    for log in ("before.log", "after.log"):
        assert TEST_KEY not in (tmp_path / log).read_text()
