"""Two app processes on one log: neither closes the other's live turn; a killed one's turn is recovered
by the other once its lease runs out, once, with nothing lost or duplicated.

Two real `streamlit run` servers on one SQLite file, with a short lease (3 s, renewed every second), so
the first reply outlives several leases while the second process polls the thread.
"""

from __future__ import annotations

import contextlib
import os
import signal

from playwright.sync_api import expect

from playground.store import Store
from tests.app_process import ROOT, streamlit_server, wait_for_app
from tests.e2e.browser import chat_message, create, new_assistant, send
from tests.e2e.conftest import E2E_KEY

WORDS = [
    f" Slow{i}" if i else "Slow0" for i in range(24)
]  # 18 s: six leases, while the second process starts and polls
WHOLE = "".join(WORDS)
STORY = [f"word{i} " for i in range(80)]


def shape(log: Store, thread_id: int) -> list[tuple[str, str]]:
    return [(m.role, m.status) for m in log.list_messages(thread_id)]


def test_two_processes_keep_each_others_live_turns_and_recover_a_killed_ones(tmp_path, upstream, page, context):
    upstream.reset()
    db = tmp_path / "log.db"
    env = {
        "OPENAI_BASE_URL": upstream.base_url,
        "OPENAI_API_KEY": E2E_KEY,
        "PLAYGROUND_DB": str(db),
        "PLAYGROUND_RUN_LEASE_S": "3",
    }
    page.set_default_timeout(20_000)
    with contextlib.ExitStack() as servers:
        first = servers.enter_context(streamlit_server(ROOT / "app.py", env, tmp_path / "first.log"))
        page.goto(first.url)
        wait_for_app(page)
        new_assistant(page, "Twin bot")
        create(page)
        upstream.script({"chunks": WORDS, "gap": 0.75})
        send(page, "Take your time")
        expect(chat_message(page, "Slow0")).to_be_visible()
        query = page.url.split("?", 1)[1]  # names the assistant and the thread

        # A second process starts on the same log while the reply streams; a browser opens the thread there.
        second = servers.enter_context(streamlit_server(ROOT / "app.py", env, tmp_path / "second.log"))
        other = context.new_page()
        other.set_default_timeout(20_000)
        other.goto(f"{second.url}/?{query}")
        expect(other.get_by_text("being written by another app process")).to_be_visible()
        assert WHOLE not in page.get_by_test_id("stChatMessage").last.inner_text()  # still streaming in the first

        # The live turn is untouched: it completes in the first process, logged once, and the second shows it.
        expect(chat_message(page, WHOLE)).to_be_visible(timeout=40_000)
        expect(chat_message(other, WHOLE)).to_be_visible(timeout=20_000)
        log = Store(db, read_only=True)  # reads only: this test's process must not sweep for the others
        [thread] = log.list_threads(log.list_assistants()[0]["id"])
        assert [(m.role, m.content, m.status) for m in log.list_messages(thread.id)] == [
            ("user", "Take your time", "complete"),
            ("assistant", WHOLE, "complete"),
        ]
        assert [(r.status, r.error) for r in log.list_runs(thread.id)] == [("completed", None)]
        expect(other.get_by_text("Interrupted")).to_have_count(0)
        wait_for_app(page)

        # Another slow reply in the first process, which is then killed mid-stream: no finally, no settle.
        upstream.script({"chunks": STORY, "gap": 0.3})
        send(page, "Tell me a long story")
        expect(chat_message(page, "word5")).to_be_visible()  # > 1 s of streaming: a checkpoint exists
        os.kill(first.pid, signal.SIGKILL)

        # Once its lease runs out, the second process recovers the turn: the partial reply kept, Retry offered.
        other.reload()
        expect(other.locator(".st-key-retry button")).to_be_visible(timeout=30_000)
        expect(chat_message(other, "word0 word1 word2 word3")).to_be_visible()
        assert shape(log, thread.id) == [
            ("user", "complete"),
            ("assistant", "complete"),
            ("user", "failed"),
            ("assistant", "incomplete"),
        ]
        cut = log.list_messages(thread.id)[-1].content
        assert cut.startswith("word0 word1 word2 word3") and len(cut) < len("".join(STORY))
        done, killed = log.list_runs(thread.id)
        assert done.status == "completed"
        assert (killed.status, killed.problem) == ("incomplete", "interrupted") and "Interrupted" in killed.error

        # Retry on the second process sends the question once more, not twice.
        other.locator(".st-key-retry button").click()
        expect(chat_message(other, "Echo: Tell me a long story")).to_be_visible()
        wait_for_app(other)
        messages = log.list_messages(thread.id)
        assert [m.content for m in messages if m.role == "user"] == ["Take your time", "Tell me a long story"]
        assert [(m.content, m.status) for m in messages if m.role == "assistant"] == [
            (WHOLE, "complete"),
            (cut, "incomplete"),
            ("Echo: Tell me a long story", "complete"),
        ]
        conversation = log.get_thread(thread.id).conversation_id
        texts = ["".join(p.get("text", "") for p in i["content"]) for i in upstream.items(conversation)]
        assert texts == ["Take your time", WHOLE, "Tell me a long story", "Echo: Tell me a long story"]
    assert upstream.violations == []
    for name in ("first.log", "second.log"):
        assert E2E_KEY not in (tmp_path / name).read_text()
