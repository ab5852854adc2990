"""Placing a message in a real browser (issue 12, item 5): a user and an assistant message placed by hand,
then a send; both reach upstream with that turn, are drawn marked, and are marked in the downloads."""

import csv
import io
import json
from pathlib import Path

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import by_key, chat_message, commit, create, new_assistant, send

QUESTION = "zinnia: my parcel never came"
ANSWER = "zinnia: I have reshipped it, it arrives Monday."


def place(page, role: str, text: str) -> None:
    popover = page.get_by_role("button", name="Place a message")
    if not page.get_by_label("Message to place").is_visible():
        popover.click()
    by_key(page, "place.role").get_by_text(role, exact=True).click()
    wait_for_app(page)
    commit(page, page.get_by_label("Message to place"), text)
    by_key(page, "place_send").locator("button").click()
    wait_for_app(page)


def download(page, key: str) -> str:
    with page.expect_download() as info:
        by_key(page, key).locator("button").click()
    return Path(info.value.path()).read_text()


def test_place_a_message_and_send_it_reaches_upstream_marked_in_the_export(app, upstream, log_store):
    page = app
    new_assistant(page, "Stage setter")
    create(page)

    # An empty message is refused on the field.
    page.get_by_role("button", name="Place a message").click()
    by_key(page, "place_send").locator("button").click()
    expect(page.get_by_text("Type the message to place.")).to_be_visible()

    place(page, "User", QUESTION)
    place(page, "Assistant", ANSWER)
    page.keyboard.press("Escape")  # close the popover
    expect(chat_message(page, ANSWER)).to_be_visible()
    expect(page.get_by_test_id("stChatMessage").filter(has_text="placed by hand")).to_have_count(2)

    send(page, "zinnia: thanks, and the refund?")
    expect(chat_message(page, "Echo: zinnia: thanks, and the refund?")).to_be_visible()
    wait_for_app(page)

    # Upstream got both with the turn, before the user's text, each with its role.
    body = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/responses"][-1]["body"]
    sent = [
        (i["role"], i["content"] if isinstance(i["content"], str) else i["content"][0]["text"]) for i in body["input"]
    ]
    assert sent == [("user", QUESTION), ("assistant", ANSWER), ("user", "zinnia: thanks, and the refund?")]
    assert upstream.violations == []

    bot = next(a for a in log_store.list_assistants() if a["name"] == "Stage setter")
    [thread] = log_store.list_threads(bot["id"])
    assert [(m.role, bool(m.placed)) for m in log_store.list_messages(thread.id)] == [
        ("user", True),
        ("assistant", True),
        ("user", False),
        ("assistant", False),
    ]

    # The downloads mark them: weight 0 on the placed reply in the fine-tuning file, a column in the CSV.
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Conversations").click()
    wait_for_app(page)
    box = page.get_by_label("Search messages")
    box.fill("zinnia")
    box.press("Enter")
    wait_for_app(page)
    [line] = [json.loads(x) for x in download(page, "export_jsonl").splitlines() if "zinnia" in x]
    assert [m for m in line["messages"] if m["role"] != "system"] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": ANSWER, "weight": 0},
        {"role": "user", "content": "zinnia: thanks, and the refund?"},
        {"role": "assistant", "content": "Echo: zinnia: thanks, and the refund?"},
    ]
    rows = [r for r in csv.DictReader(io.StringIO(download(page, "export_csv"))) if r["thread_id"] == str(thread.id)]
    assert [(r["role"], r["placed"]) for r in rows] == [
        ("user", "yes"),
        ("assistant", "yes"),
        ("user", ""),
        ("assistant", ""),
    ]
    assert download(page, "export_md").count("placed by hand") == 2
