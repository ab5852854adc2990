"""The sidebar's threads in a real browser: dates in the list, search, and Rename in its popover (what
AppTest cannot show: the popover opens, Enter in the field saves, the label's time is drawn)."""

import os

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import by_key, chat_message, create, new_assistant, send


def test_threads_are_listed_with_times_searched_and_renamed(app, log_store):
    page = app
    new_assistant(page, "Namer")
    create(page)
    for text in ("zebra crossing", "apple pie"):
        send(page, text)
        expect(chat_message(page, f"Echo: {text}")).to_be_visible()
        wait_for_app(page)
        if text.startswith("zebra"):
            page.get_by_role("button", name="New thread").click()
            page.get_by_role("button", name="Start new thread").click()
            wait_for_app(page)
    namer = next(a for a in log_store.list_assistants() if a["name"] == "Namer")
    zebra, apple = sorted(log_store.list_threads(namer["id"]), key=lambda t: t.id)
    sidebar = page.get_by_test_id("stSidebar")
    listed = by_key(page, f"thread.{apple.id}").get_by_role("button")
    expect(listed).to_contain_text("apple pie")
    expect(listed).to_contain_text(":")  # the time it was last active, as 14:32

    # Rename the open thread: the popover's field, Enter saves.
    sidebar.get_by_role("button", name="Rename").click()
    field = by_key(page, f"rename.{apple.id}").locator("input")
    expect(field).to_have_value("apple pie")
    field.fill("x" * 101)
    field.press("Enter")
    wait_for_app(page)
    expect(page.get_by_text("A title holds at most 100 characters; this one has 101.")).to_be_visible()
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "threads-rename.png"))
    field.fill("Dessert *plans*")
    field.press("Enter")
    wait_for_app(page)
    expect(by_key(page, f"thread.{apple.id}").get_by_role("button")).to_contain_text("Dessert *plans*")
    assert log_store.get_thread(apple.id).title == "Dessert *plans*"
    page.keyboard.press("Escape")  # close the popover
    if os.environ.get("SCREENSHOT_DIR"):
        page.set_viewport_size({"width": 1280, "height": 1100})
        sidebar.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "threads-sidebar.png"))

    # Search: a title word, then a reply's word.
    search = by_key(page, "thread_search").locator("input")
    search.fill("dessert")
    search.press("Enter")
    wait_for_app(page)
    expect(by_key(page, f"thread.{zebra.id}")).to_have_count(0)
    expect(by_key(page, f"thread.{apple.id}")).to_have_count(1)
    search.fill("crossing")
    search.press("Enter")
    wait_for_app(page)
    expect(by_key(page, f"thread.{apple.id}")).to_have_count(0)
    expect(by_key(page, f"thread.{zebra.id}")).to_have_count(1)
