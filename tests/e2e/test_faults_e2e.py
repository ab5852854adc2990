"""The fault matrix in a real browser: what the person at the screen sees when a turn goes wrong.

The cells the running app server can be given from outside (a scripted upstream, a deleted
conversation). The timeouts need the client's timeout shortened, which only an in-process run can do:
they are cells of tests/test_faults.py at the engine and page levels.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from playground.client import ApiKey, make_client
from tests.app_process import wait_for_app
from tests.e2e.browser import by_key, create, new_assistant, send
from tests.e2e.conftest import E2E_KEY
from tests.openai_server import OpenAIServer
from tests.test_faults import AFTER, FAULTS, TRICKLE, assert_one_clear_sentence, item_texts

# The trickle runs with the app's own read timeout here: it must stream visibly and complete.
BROWSER_FAULTS = [name for name, f in FAULTS.items() if not f.black_hole and (f.timeout is None or f.kind is None)]


@pytest.mark.parametrize("name", BROWSER_FAULTS)
def test_browser_fault(name, app, upstream: OpenAIServer, log_store):
    fault = FAULTS[name]
    page = app
    messages = page.get_by_test_id("stChatMessage")  # .last: a finished reply can briefly show twice (see conftest)
    errors = page.get_by_test_id("stAlertContentError")
    bot = f"Fault bot {name}"
    new_assistant(page, bot)
    create(page)
    send(page, "warm-up")
    expect(messages.filter(has_text="Echo: warm-up").last).to_be_visible()
    wait_for_app(page)
    [assistant] = [a for a in log_store.list_assistants() if a["name"] == bot]
    [thread] = log_store.list_threads(assistant["id"])
    conversation = log_store.get_thread(thread.id).conversation_id

    if fault.gone:
        make_client(ApiKey(E2E_KEY, "environment"), upstream.base_url).conversations.delete(conversation)
    if fault.script:
        upstream.script(fault.script)
    send(page, "the question")
    if fault.kind is None:
        # The slow trickle streams in, visibly, and completes.
        expect(messages.filter(has_text="w3").last).to_be_visible()
        assert "w23" not in messages.last.inner_text(), "the reply should stream, not arrive at once"
        expect(messages.filter(has_text="".join(TRICKLE)).last).to_be_visible(timeout=30_000)
        wait_for_app(page)
        expect(errors).to_have_count(0)
    else:
        expect(errors).to_have_count(1)
        sentence = errors.first.get_by_test_id("stMarkdownContainer").inner_text().strip()
        # Error text carries upstream words, so it is drawn escaped: exactly as written, backticks included.
        assert_one_clear_sentence(sentence, fault.sentence)
        expect(messages.filter(has_text="the question").last).to_be_visible()  # the text stays on screen
        if fault.partial:
            expect(messages.filter(has_text=fault.partial).last).to_contain_text("incomplete")
        wait_for_app(page)
    assert E2E_KEY not in page.content()
    runs = log_store.list_runs(thread.id)
    assert [(r.status, r.problem) for r in runs] == [("completed", None), (fault.status, fault.kind)]

    if fault.gone:
        expect(by_key(page, "retry")).to_have_count(0)
        by_key(page, "gone_new_thread").locator("button").click()
        wait_for_app(page)
        send(page, "after")
        expect(messages.filter(has_text="Echo: after").last).to_be_visible()
        wait_for_app(page)
        assert [m.content for m in log_store.list_messages(thread.id) if m.role == "user"] == [
            "warm-up",
            "the question",
        ]
        return
    if fault.kind is not None:
        by_key(page, "retry").locator("button").click()
        expect(messages.filter(has_text="Echo: the question").last).to_be_visible()
        wait_for_app(page)
    send(page, "after")
    expect(messages.filter(has_text="Echo: after").last).to_be_visible()
    wait_for_app(page)
    users = [m.content for m in log_store.list_messages(thread.id) if m.role == "user"]
    assert users == ["warm-up", "the question", "after"]
    answer = "".join(TRICKLE) if fault.kind is None else "Echo: the question"
    assert item_texts(upstream, conversation) == ["warm-up", "Echo: warm-up", "the question", answer, *AFTER]
    assert upstream.violations == []
    assert errors.count() == 0, (
        "after a successful Retry the superseded attempt's error must not stay under its kept partial reply "
        "(app_pages/_chat.py history)"
    )
