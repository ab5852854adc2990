"""A turn outlives the page that started it: leave mid-reply, come back, open a second tab.

Only a real server shows this: AppTest runs a script to its end, so it can never leave mid-run.
"""

from playwright.sync_api import expect

from tests.e2e.browser import chat_message, create, new_assistant, send
from tests.e2e.conftest import wait_for_app

WORDS = ["Slowly", " but", " surely", " the", " whole", " reply", " arrives", " in", " the", " end."]
WHOLE = "".join(WORDS)


def _thread_of(log_store, name):
    bot = next(a for a in log_store.list_assistants() if a["name"] == name)
    [thread] = log_store.list_threads(bot["id"])
    return thread


def test_leaving_mid_reply_and_coming_back_finds_it_whole_and_logged_once(app, upstream, log_store, context):
    page = app
    new_assistant(page, "Patient bot")
    create(page)

    upstream.script({"chunks": WORDS, "gap": 0.6})
    send(page, "Take your time")
    expect(chat_message(page, "Slowly")).to_be_visible()
    assert "end." not in chat_message(page, "Slowly").inner_text()
    playground_url = page.url  # names the assistant and the thread

    # Away to another page while the reply is still coming: the turn must not be stopped.
    page.get_by_role("link", name="Conversations").click()
    wait_for_app(page)
    expect(page.get_by_text("Stopped")).to_have_count(0)

    # A second tab (a session of its own) attaches to the same running turn.
    other = context.new_page()
    other.goto(playground_url)
    expect(other.get_by_role("button", name="Stop")).to_be_visible()
    assert WHOLE not in other.get_by_test_id("stChatMessage").last.inner_text()
    expect(chat_message(other, WHOLE)).to_be_visible(timeout=20_000)

    page.get_by_role("link", name="Playground").click()
    wait_for_app(page)
    expect(chat_message(page, WHOLE)).to_be_visible()
    expect(page.get_by_text("Stopped")).to_have_count(0)

    thread = _thread_of(log_store, "Patient bot")
    messages = log_store.list_messages(thread.id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Take your time", "complete"),
        ("assistant", WHOLE, "complete"),
    ]
    assert [r.status for r in log_store.list_runs(thread.id)] == ["completed"]
    assert len([r for r in upstream.requests if r["path"].endswith("/responses")]) == 1


def test_stop_from_a_second_tab_stops_the_turn_of_the_first(app, upstream, log_store, context):
    page = app
    new_assistant(page, "Stoppable bot")
    create(page)
    upstream.script({"chunks": WORDS, "gap": 0.8})
    send(page, "Go on")
    expect(chat_message(page, "Slowly")).to_be_visible()

    other = context.new_page()
    other.goto(page.url)  # not wait_for_app: a page following a live turn runs until the turn ends
    other.get_by_role("button", name="Stop").click()
    expect(other.get_by_text("Stopped; the partial reply is kept.")).to_be_visible()
    thread = _thread_of(log_store, "Stoppable bot")
    [run] = log_store.list_runs(thread.id)
    assert run.status == "cancelled"
    # The first tab stops drawing too, and shows how the turn ended.
    expect(page.get_by_text("Stopped; the partial reply is kept.")).to_be_visible()
    reply = [m for m in log_store.list_messages(thread.id) if m.role == "assistant"]
    assert len(reply) == 1 and reply[0].status == "incomplete" and reply[0].content != WHOLE
