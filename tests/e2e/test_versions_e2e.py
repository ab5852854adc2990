"""Versions in a real browser: two versions, their instructions diff, restore the first, open it in the Playground."""

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import commit, create, new_assistant, pick

NAME = "Diff bot"


def test_diff_restore_and_open_in_playground(app, upstream, log_store):
    page = app
    instructions = page.get_by_placeholder("You are a helpful assistant that…")
    new_assistant(page, NAME)
    commit(page, instructions, "Answer in English.")
    create(page)

    commit(page, instructions, "Answer in French.")
    page.get_by_role("button", name="Update").click()
    wait_for_app(page)

    bot = next(a for a in log_store.list_assistants() if a["name"] == NAME)
    versions = log_store.list_versions(bot["id"])
    assert [(v.number, v.config.instructions) for v in versions] == [
        (2, "Answer in French."),
        (1, "Answer in English."),
    ]

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Versions").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Versions")).to_be_visible()
    assistant = page.get_by_role("combobox", name="Assistant", exact=True)
    if assistant.input_value() != NAME:
        pick(page, "Assistant", NAME)
    expect(assistant).to_have_value(NAME)

    # Compare v1 with v2 (the defaults, set here so the test does not lean on them).
    pick(page, "Compare", "v1")
    pick(page, "with", "v2")
    expect(page.get_by_text("v1 → v2")).to_be_visible()
    diff = page.get_by_test_id("stCode")
    expect(diff).to_contain_text("-Answer in English.")
    expect(diff).to_contain_text("+Answer in French.")

    pick(page, "Restore", "v1")
    page.get_by_role("button", name="Restore v1 as a new version").click()
    # A toast lives 4 s: look for it at once, since the rerun after it can take longer on a busy machine.
    expect(page.get_by_text("v1 is now v3")).to_be_visible()
    wait_for_app(page)
    latest = log_store.latest_version(bot["id"])
    assert (latest.number, latest.note, latest.config.instructions) == (3, "restored v1", "Answer in English.")

    page.get_by_role("button", name="Open in playground").click()
    wait_for_app(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value(NAME)
    expect(instructions).to_have_value("Answer in English.")
    assert log_store.latest_version(bot["id"]).number == 3  # opening it saved nothing new

    assert upstream.violations == []
