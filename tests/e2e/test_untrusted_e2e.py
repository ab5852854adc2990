"""Untrusted output in a real browser (issue 10, items 4 and 5): nothing upstream names is fetched.

A reply, a message and a function call name carry images pointing at a local HTTP listener started
here; Chromium must never request them (on the Playground, while streaming and after, and again on
Conversations), and each image's link must be readable as text instead.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import by_key, chat_message, create, new_assistant, send
from tests.openai_server.server import PNG


@pytest.fixture
def listener():
    """A local HTTP server that answers every GET with a PNG and remembers what was asked for."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(800)  # time for any image the page holds to be requested


def test_images_in_replies_and_messages_are_never_fetched(app, upstream, listener):
    page = app
    base, seen = listener
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(base) else None)
    new_assistant(page, "Image bot")
    create(page)

    inline = f"{base}/inline.png?leak=chat"
    reference = f"{base}/ref.png?leak=ref"
    # `!` and `[` arrive in different chunks: the stream must not draw the image in between.
    upstream.script(
        {
            "chunks": [
                "Here: !",
                f"[chart]({inline}) and ![ref][r] and <img src='{base}/html.png?leak=html'>.",
                f"\n\n[r]: {reference}\n",
            ],
            "gap": 0.3,
        }
    )
    # The user's text becomes the thread's title, drawn in a sidebar button (labels render images too).
    send(page, f"Show me ![title]({base}/title.png?leak=title)")
    reply = chat_message(page, "Here:")
    expect(reply).to_contain_text("Trace")  # drawn again from the log once the turn ended
    settle(page)
    assert seen == [] and asked == [], f"the browser fetched {seen or asked}"
    expect(reply).to_contain_text(inline)
    shown = reply.inner_text()
    assert f"![chart]({inline})" in shown and "![ref][r]" in shown and f"[r]: {reference}" in shown
    assert reply.locator("img").count() == 0
    expect(chat_message(page, "Show me")).to_contain_text(f"![title]({base}/title.png?leak=title)")
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Show me ![title]")).to_be_visible()

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Conversations").click()
    wait_for_app(page)
    view = by_key(page, "conv_view")
    expect(view).to_contain_text(f"![chart]({inline})")
    search = by_key(page, "conv_search").locator("input")  # the search hits draw message text too
    search.fill("chart")
    search.press("Enter")
    settle(page)
    assert seen == [] and asked == [], f"the browser fetched {seen or asked}"
    assert view.locator("img").count() == 0
    assert upstream.violations == []


def test_a_function_call_name_is_shown_literally(app, upstream, listener):
    page = app
    base, seen = listener
    asked = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(base) else None)
    new_assistant(page, "Name bot")
    create(page)

    name = f"x`![pwn]({base}/call.png?leak=name)`**bold**"
    upstream.script({"function_calls": [{"name": name, "arguments": "{}", "call_id": "call_untrusted"}]})
    send(page, "call something")
    waiting = by_key(page, "pending_calls")
    expect(waiting).to_be_visible()
    settle(page)
    assert seen == [] and asked == [], f"the browser fetched {seen or asked}"
    call = chat_message(page, "Called")
    expect(call).to_contain_text(f"Called {name}")
    expect(waiting).to_contain_text(name)
    assert page.locator("[data-testid='stChatMessage'] img, .st-key-pending_calls img").count() == 0
    assert call.locator("strong").count() == 0  # **bold** stayed characters
