"""The log pages in a real browser: what AppTest cannot do (close a dialog with Esc or its ×)."""

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import chat_message, create, new_assistant, send


def search(page, text: str) -> None:
    box = page.get_by_label("Search messages")
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def test_a_dismissed_delete_confirmation_never_comes_back_to_delete_another_thread(app, log_store):
    page = app
    new_assistant(page, "Keeper")
    create(page)
    for text in ("zebra one", "zebra two"):
        send(page, text)
        expect(chat_message(page, f"Echo: {text}")).to_be_visible()
        wait_for_app(page)
        page.get_by_role("button", name="New thread").click()
        page.get_by_role("button", name="Start new thread").click()
        wait_for_app(page)
    keeper = next(a for a in log_store.list_assistants() if a["name"] == "Keeper")
    before = {t.id for t in log_store.list_threads(keeper["id"])}
    assert len(before) == 2

    page.get_by_role("link", name="Conversations").click()
    wait_for_app(page)
    search(page, "zebra")
    for close in ("Escape", "×"):
        page.get_by_role("button", name="Delete…").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()
        search(page, "zebra two")  # a rerun that opens another thread
        expect(page.get_by_role("dialog")).to_have_count(0)
        search(page, "zebra")
    assert {t.id for t in log_store.list_threads(keeper["id"])} == before  # nothing was deleted
