"""Every page as the first page of a browser session, and the navigation across a server restart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from playground.assistant import AssistantConfig
from tests.app_process import ROOT, free_port, streamlit_server, wait_for_app
from tests.e2e.conftest import E2E_KEY
from tests.test_log import chat

# url path → the page's title (the heading it draws).
PAGES = {
    "": "Playground",
    "assistants": "Assistants",
    "versions": "Versions",
    "compare": "Compare",
    "test_sets": "Test sets",
    "conversations": "Conversations",
    "usage": "Usage",
}


def nav_labels(page) -> list[str]:
    # Each link is the icon's ligature name, then the label.
    links = page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    return [t.strip().splitlines()[-1] for t in links]


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_cold_with_a_replied_thread_in_the_log(browser, app_server, log_store, path):
    # A reply with its stored response is what made Conversations read the chat page's state.
    a = log_store.create_assistant()
    v, _ = log_store.save_version(a.id, AssistantConfig(name=f"Cold {path or 'chat'}"))
    thread = chat(log_store, a.id, v.id, ("cold question", "cold answer"))
    with log_store.write() as db:
        db.execute(
            "UPDATE runs SET response = :response WHERE thread_id = :id",
            {"response": '{"output": []}', "id": thread.id},
        )
    context = browser.new_context()  # a fresh browser session: nothing in its Streamlit session state
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{app_server['url']}/{path}")
        wait_for_app(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert nav_labels(page) == list(PAGES.values())
        expect(page.get_by_test_id("stSidebar").get_by_text("Connection", exact=True)).to_be_visible()
    finally:
        context.close()


def test_a_restart_keeps_the_navigation_in_open_tabs_and_after_a_reload(page, upstream, tmp_path):
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": E2E_KEY, "PLAYGROUND_DB": str(tmp_path / "log.db")}
    port, log = free_port(), tmp_path / "streamlit.log"
    page.set_default_timeout(20_000)
    with streamlit_server(ROOT / "app.py", env, log, port=port) as server:
        page.goto(f"{server.url}/conversations")
        wait_for_app(page)
        assert nav_labels(page) == list(PAGES.values())
    with streamlit_server(ROOT / "app.py", env, log, port=port) as server:
        # The open tab reconnects by itself and reruns its page on the new server.
        page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(timeout=40_000)
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
        assert nav_labels(page) == list(PAGES.values())
        page.reload()
        wait_for_app(page)
        assert nav_labels(page) == list(PAGES.values())
        expect(page.get_by_test_id("stException")).to_have_count(0)
