"""The Playground in a real browser: build an assistant, talk to it, reload, survive an upstream error."""

import os
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.browser import chat_message, commit, create, new_assistant, send
from tests.e2e.conftest import E2E_KEY, ROOT, wait_for_app


def test_build_chat_reload_and_recover(app, upstream, log_store, app_server):
    page = app
    new_assistant(page, "Support bot")
    commit(page, page.get_by_label("Instructions"), "Be brief and friendly.")
    create(page)
    expect(page.get_by_text("v1 saved", exact=True)).to_be_visible()

    # The reply arrives in three pieces half a second apart; the first must show before the last.
    upstream.script({"chunks": ["Hello", " there,", " friend."], "gap": 0.5})
    send(page, "Hi bot")
    reply = chat_message(page, "Hello")
    expect(reply).to_be_visible()
    assert "friend." not in reply.inner_text(), "the reply should stream, not arrive at once"
    expect(chat_message(page, "Hello there, friend.")).to_be_visible()
    wait_for_app(page)

    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["instructions"] == "Be brief and friendly." and body["stream"] is True

    # A reload starts a new session: the thread, its messages and the draft come back from the log.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Support bot")
    expect(chat_message(page, "Hello there, friend.")).to_be_visible()
    expect(page.get_by_role("button", name="Hi bot")).to_be_visible()  # the thread, titled, in the sidebar

    # An upstream failure: one clear sentence, the text kept, and Retry that does not duplicate it.
    upstream.script({"status": 500, "times": 3, "error": {"message": "boom", "type": "server_error"}})
    send(page, "Second question")
    expect(page.get_by_text("The API had an error (500) after retrying").last).to_be_visible()
    expect(chat_message(page, "Second question")).to_be_visible()
    page.get_by_role("button", name="Retry").click()
    expect(chat_message(page, "Echo: Second question")).to_be_visible()
    wait_for_app(page)

    bot = next(a for a in log_store.list_assistants() if a["name"] == "Support bot")
    [thread] = log_store.list_threads(bot["id"])
    contents = [m.content for m in log_store.list_messages(thread.id) if m.role == "user"]
    assert contents == ["Hi bot", "Second question"]
    assert [r.status for r in log_store.list_runs(thread.id)] == ["completed", "failed", "completed"]

    shot = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "test-results")) / "playground.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))

    assert upstream.violations == []
    # The key is never written anywhere the app writes.
    assert E2E_KEY not in app_server["log"].read_text()
    assert E2E_KEY.encode() not in app_server["db"].read_bytes()


def test_stop_works_before_the_first_token_and_the_thread_shows_how_it_ended(app, upstream, log_store):
    """A model thinking before its first token can be stopped; the page then shows the stop and Retry.

    Both need a real server: AppTest cannot click Stop mid-run, nor show that Streamlit starts the
    next run while the stopped one is still closing its turn.
    """
    page = app
    new_assistant(page, "Slow thinker")
    create(page)

    upstream.script({"chunks": ["Too", " late"], "ttft": 30})
    send(page, "Think hard")
    expect(page.get_by_text("typing")).to_be_visible()
    page.get_by_role("button", name="Stop").click()
    # Well before the 30 s the first token would take: Stop did not wait for it.
    expect(page.get_by_text("Stopped before the reply began.")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()

    page.get_by_role("button", name="Retry").click()
    expect(chat_message(page, "Echo: Think hard")).to_be_visible()
    wait_for_app(page)
    bot = next(a for a in log_store.list_assistants() if a["name"] == "Slow thinker")
    [thread] = log_store.list_threads(bot["id"])
    assert [r.status for r in log_store.list_runs(thread.id)] == ["cancelled", "completed"]
    assert [m.content for m in log_store.list_messages(thread.id) if m.role == "user"] == ["Think hard"]


def test_the_new_thread_dialog_stays_closed_after_escape(app):
    page = app
    page.get_by_role("button", name="New thread").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    commit(page, page.get_by_label("Description", exact=True), "any edit reruns the page")
    page.get_by_role("button", name="New assistant").click()  # a full rerun
    wait_for_app(page)
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_field_hidden_behind_its_switch_keeps_what_was_typed(app, log_store):
    """Streamlit drops a widget's value while it is not drawn; only a browser shows it come back."""
    page = app
    new_assistant(page, "Hidden fields")
    create(page)

    page.get_by_text("File search", exact=True).click()
    wait_for_app(page)
    commit(page, page.get_by_label("Vector store ids"), "vs_kept")
    page.get_by_text("File search", exact=True).click()  # off: the field goes away
    wait_for_app(page)
    expect(page.get_by_label("Vector store ids")).to_have_count(0)
    commit(page, page.get_by_label("Description", exact=True), "edited while it was hidden")
    page.get_by_text("File search", exact=True).click()  # on again
    wait_for_app(page)
    expect(page.get_by_label("Vector store ids")).to_have_value("vs_kept")

    bot = next(a for a in log_store.list_assistants() if a["name"] == "Hidden fields")
    draft, _ = log_store.get_draft(bot["id"])
    assert draft.file_search.vector_store_ids == ["vs_kept"] and draft.description == "edited while it was hidden"
