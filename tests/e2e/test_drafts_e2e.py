"""Drafts in a real browser: typing reaches the log while the field is still focused (app_pages/_typing.py),
a reload keeps it, and only Update (or a send) makes a version, however long the pauses."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import by_key, create, new_assistant


def assistant_id(log_store, name: str) -> int:
    return next(a["id"] for a in log_store.list_assistants() if a["name"] == name)


def draft_holds(log_store, bot: int, field: str, text: str, timeout: float = 20) -> None:
    """Wait until the log's draft holds `text` in `field` (what the page sent, not what it shows)."""
    deadline = time.monotonic() + timeout
    while getattr(log_store.get_draft(bot)[0], field) != text:
        assert time.monotonic() < deadline, f"the draft's {field} is {getattr(log_store.get_draft(bot)[0], field)!r}"
        time.sleep(0.2)


def status(page):
    """The save status line under Create/Update."""
    return page.get_by_text(re.compile(r"^(v\d+|Draft) saved"))


def test_typing_reaches_the_log_without_leaving_the_field_and_survives_a_reload(app, log_store):
    page = app
    new_assistant(page, "Reload bot")
    bot = assistant_id(log_store, "Reload bot")
    box = page.get_by_label("Instructions")
    box.click()
    box.press_sequentially("Answer in haiku.", delay=15)
    page.wait_for_timeout(1300)  # the pause sends it, and its section reruns...
    box.press_sequentially(" Always.", delay=15)  # ...while typing goes on: nothing is lost or moved
    page.wait_for_timeout(2000)
    expect(box).to_be_focused()
    expect(box).to_have_value("Answer in haiku. Always.")
    draft_holds(log_store, bot, "instructions", "Answer in haiku. Always.")
    expect(status(page)).to_contain_text("Draft saved")

    page.reload()
    wait_for_app(page)
    expect(page.get_by_label("Instructions")).to_have_value("Answer in haiku. Always.")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Reload bot")


def test_pauses_make_no_version_only_update_does(app, log_store):
    page = app
    new_assistant(page, "Pauses bot")
    create(page)
    bot = assistant_id(log_store, "Pauses bot")
    expect(status(page)).to_have_text("v1 saved")
    box = page.get_by_label("Instructions")
    box.click()
    # Pauses longer than the 3 s after which a draft used to become a version by itself.
    for text in ("One.", "One. Two.", "One. Two. Three."):
        box.fill(text)  # never left: only the pause sends it
        draft_holds(log_store, bot, "instructions", text)
        page.wait_for_timeout(3500)
        assert [v.number for v in log_store.list_versions(bot)] == [1]
    expect(status(page)).to_contain_text("Draft saved")
    expect(status(page)).to_contain_text("Update or send to make v2")
    description = page.get_by_label("Description", exact=True)
    description.click()
    description.press_sequentially("Counts to three.", delay=15)
    draft_holds(log_store, bot, "description", "Counts to three.")
    page.wait_for_timeout(3500)
    assert [v.number for v in log_store.list_versions(bot)] == [1]

    by_key(page, "save_version").locator("button").click()
    wait_for_app(page)
    expect(status(page)).to_have_text("v2 saved")
    versions = log_store.list_versions(bot)
    assert [v.number for v in versions] == [2, 1]
    assert (versions[0].config.instructions, versions[0].config.description) == ("One. Two. Three.", "Counts to three.")


def test_an_idle_page_sends_nothing(app):
    page = app
    frames: list[int] = []

    def watch(ws) -> None:
        ws.on("framesent", lambda payload: frames.append(len(payload)))
        ws.on("framereceived", lambda payload: frames.append(len(payload)))

    page.on("websocket", watch)
    page.reload()
    wait_for_app(page)
    page.wait_for_timeout(1500)  # the page's own first run settles
    frames.clear()
    page.wait_for_timeout(8000)
    assert frames == []
