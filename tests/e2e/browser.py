"""Helpers for driving the app in Chromium with Playwright (the fixtures are in conftest.py)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.app_process import wait_for_app


def send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def commit(page, locator, text: str) -> None:
    """Type into a text widget and leave it, which is when Streamlit commits the value."""
    locator.fill(text)
    locator.press("Tab")
    wait_for_app(page)


def by_key(page, key: str):
    """A widget by its Streamlit key (the element's class is st-key-<key>, other characters as -)."""
    return page.locator(".st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key))


def new_assistant(page, name: str) -> None:
    """A new assistant, named (the app is shared by the browser tests, so each makes its own)."""
    page.get_by_role("button", name="New assistant").click()
    wait_for_app(page)
    commit(page, by_key(page, "cfg.name").locator("input"), name)


def create(page) -> None:
    """Press Create and wait until the assistant has its first version."""
    by_key(page, "save_version").locator("button").click()
    wait_for_app(page)
    expect(by_key(page, "save_version").get_by_role("button", name="Update")).to_be_visible()


def chat_message(page, text: str):
    """The chat message holding `text`. When a reply finishes, the rerun that draws it from the log
    can briefly sit beside the streamed copy still on the page; the newest is the one that stays."""
    return page.get_by_test_id("stChatMessage").filter(has_text=text).last


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label`: open the box, click the option."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.get_by_role("listbox")).to_have_count(0)
    wait_for_app(page)
