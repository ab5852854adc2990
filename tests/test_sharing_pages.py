"""Shared assistants on the pages of a signed-in deployment (issue 15, item 2): Ann shares an assistant,
Bob sees it marked, opens it, chats with its latest version on a thread of his own, cannot change it, and
clones it to change his copy. The store's side is tests/test_sharing.py; here each person is a browser
session signed in the way tests/test_access.py fakes it (`at.user`, `[auth]` and `allowed` in the secrets),
both on one log and the local OpenAI server."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from playground.store import Store
from tests.conftest import TEST_KEY
from tests.pages import APP, create, texts, typed
from tests.test_access import AUTH, signed_in

ANN, BOB = "ann@example.com", "bob@example.com"
INSTRUCTIONS = "Answer as the qqann helpdesk."
READ_ONLY = f"Shared by {ANN} — clone it to change it."


@pytest.fixture
def deployment(upstream, db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    return db_path


def person(email: str) -> AppTest:
    """A browser session signed in as `email` (everyone let in), on the Playground."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["allowed"] = ["*"]
    at.user = signed_in(email)
    at.run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def share(at: AppTest, assistant_id: int, shared: bool) -> None:
    """On the Assistants page: pick the assistant and flip its sharing switch."""
    at.switch_page("app_pages/assistants.py").run()
    ok(at).selectbox(key="assistants_pick").set_value(assistant_id).run()
    ok(at).toggle(key=f"share_{assistant_id}_{int(not shared)}").set_value(shared).run()
    ok(at)


@pytest.fixture
def shared(deployment):
    """Ann's "Helpdesk" with a version, shared from the Assistants page; her session stays open."""
    ann = person(ANN)
    create(ann, name="Helpdesk", instructions=INSTRUCTIONS)
    [bot] = Store(deployment, ANN).list_assistants()
    share(ann, bot["id"], True)
    assert Store(deployment, ANN).get_assistant(bot["id"]).shared
    return ann, bot["id"]


def test_ann_shares_and_bob_sees_it_marked_without_owners_buttons(shared, deployment):
    _, bot = shared
    bob = person(BOB)
    assert bob.session_state["assistant_id"] != bot  # his own blank assistant, not hers, by default
    bob.switch_page("app_pages/assistants.py").run()
    table = ok(bob).dataframe[0].value
    assert dict(zip(table["name"], table["shared"], strict=True))["Helpdesk"] == f"shared by {ANN}"
    picker = bob.selectbox(key="assistants_pick")
    assert f"Helpdesk · shared by {ANN}" in picker.options
    picker.set_value(bot).run()
    labels = [b.label for b in ok(bob).button]
    assert "Clone" in labels and "Open in playground" in labels
    assert "Archive" not in labels  # only the owner shares or archives
    assert not [t for t in bob.toggle if str(t.key).startswith("share_")]
    assert any(f"Shared by {ANN}" in c for c in texts(bob, "caption"))


def test_bob_chats_with_anns_latest_version_on_his_own_thread_and_changes_nothing(shared, deployment, upstream):
    ann, bot = shared
    log = Store(deployment)
    before = log.dump()
    bob = person(BOB)
    bob.switch_page("app_pages/assistants.py").run()
    ok(bob).selectbox(key="assistants_pick").set_value(bot).run()
    ok(bob).button(key=f"open_{bot}").click().run()
    assert ok(bob).session_state["assistant_id"] == bot
    bob.switch_page("app_pages/chat.py").run()  # AppTest's next run() would run the Assistants page again
    ok(bob)
    # Read-only: one line, Clone, the version as a summary; no field to edit, no Create/Update.
    assert READ_ONLY in texts(bob, "info")
    assert [c.value for c in bob.code] == [INSTRUCTIONS]
    assert not [w for w in bob.text_input if str(w.key).startswith("cfg.")]
    assert not [b for b in bob.button if b.key == "save_version"]
    assert bob.button(key="clone_shared").disabled is False

    bob.chat_input[0].set_value("Where is my order?").run()
    ok(bob)
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["instructions"] == INSTRUCTIONS  # Ann's version ran
    [thread] = Store(deployment, BOB).list_threads(bot)
    assert thread.owner == BOB
    [version] = Store(deployment, BOB).list_versions(bot)
    assert [m.version_id for m in Store(deployment, BOB).list_messages(thread.id)] == [version.id, version.id]

    # Nothing of Ann's changed: no draft, unsent text, version, rename (Bob's own blank assistant aside).
    after = log.dump()
    for table, column in (("drafts", "assistant_id"), ("assistant_versions", "assistant_id"), ("assistants", "id")):
        assert [r for r in after[table] if r[column] == bot] == [r for r in before[table] if r[column] == bot]

    # Ann does not see Bob's thread: not in her sidebar, not in her log.
    ann.switch_page("app_pages/chat.py").run()
    assert Store(deployment, ANN).list_threads(bot) == []
    assert not [b for b in ok(ann).sidebar.button if b.key == f"thread.{thread.id}"]
    assert "Where is my order?" not in str([b.label for b in ann.sidebar.button])
    # Bob's sidebar lists his thread.
    bob.run()
    assert [b for b in ok(bob).sidebar.button if b.key == f"thread.{thread.id}"]


def test_bob_clones_it_and_edits_his_copy(shared, deployment):
    _, bot = shared
    drafts = Store(deployment).dump()["drafts"]
    bob = person(BOB)
    bob.session_state["assistant_id"] = bot
    bob.run()
    assert READ_ONLY in texts(ok(bob), "info")
    bob.button(key="clone_shared").click().run()
    clone = ok(bob).session_state["assistant_id"]
    assert clone != bot
    mine = Store(deployment, BOB)
    assert mine.get_assistant(clone).owner == BOB
    assert bob.text_input(key="cfg.name").value == "Helpdesk (copy)"
    assert READ_ONLY not in texts(bob, "info")
    typed(bob, "cfg.instructions", "Bob's way.").run()
    ok(bob).button(key="save_version").click().run()
    assert mine.latest_version(clone).config.instructions == "Bob's way."
    assert mine.get_draft(clone)[0].instructions == "Bob's way."
    assert [d for d in Store(deployment).dump()["drafts"] if d["assistant_id"] == bot] == [
        d for d in drafts if d["assistant_id"] == bot
    ]


def test_versions_of_a_shared_assistant_are_seen_and_exported_not_restored_or_noted(shared, deployment):
    _, bot = shared
    bob = person(BOB)
    bob.session_state["versions_assistant"] = bot
    bob.switch_page("app_pages/versions.py").run()
    ok(bob)
    assert bob.selectbox(key="versions_pick").value == bot
    assert READ_ONLY in texts(bob, "info")
    assert list(bob.dataframe[0].value.version) == ["v1"]
    keys = {b.key for b in bob.button}
    assert "restore" not in keys and "note_save" not in keys
    downloads = {e.proto.id for e in bob.get("download_button")}
    assert len(downloads) == 2  # JSON and the Python script


def test_unsharing_hides_it_from_bob(shared, deployment):
    ann, bot = shared
    bob = person(BOB)
    bob.session_state["assistant_id"] = bot
    bob.run()
    assert READ_ONLY in texts(ok(bob), "info")
    share(ann, bot, False)
    assert not Store(deployment, ANN).get_assistant(bot).shared
    bob.run()
    assert ok(bob).session_state["assistant_id"] != bot  # back on his own
    assert READ_ONLY not in texts(bob, "info")
    assert not [o for o in bob.sidebar.selectbox[0].options if "Helpdesk" in o]
    bob.switch_page("app_pages/assistants.py").run()
    assert "Helpdesk" not in list(ok(bob).dataframe[0].value["name"])


def test_the_owner_sees_her_sharing_switch_and_archive(shared):
    ann, bot = shared
    ann.switch_page("app_pages/assistants.py").run()
    table = ok(ann).dataframe[0].value
    assert list(table["shared"]) == ["yes"]
    assert ann.toggle(key=f"share_{bot}_1").value is True
    assert "Archive" in [b.label for b in ann.button]


def test_open_mode_has_no_shared_column_nor_switch(app):
    app.switch_page("app_pages/assistants.py").run()
    assert "shared" not in ok(app).dataframe[0].value.columns
    assert not [t for t in app.toggle if str(t.key).startswith("share_")]
    assert "Archive" in [b.label for b in app.button]


def test_a_shared_assistant_without_a_version_offers_nothing_to_run_or_clone(deployment):
    ann = Store(deployment, ANN)
    bot = ann.create_assistant()  # a draft only: Ann never pressed Create
    ann.share_assistant(bot.id)
    bob = person(BOB)
    bob.session_state["assistant_id"] = bot.id
    bob.run()
    assert READ_ONLY in texts(ok(bob), "info")
    assert bob.chat_input[0].disabled and bob.button(key="clone_shared").disabled
    assert any("no version yet" in c for c in texts(bob, "caption"))
    bob.switch_page("app_pages/assistants.py").run()
    ok(bob).selectbox(key="assistants_pick").set_value(bot.id).run()
    assert ok(bob).button(key=f"clone_{bot.id}").disabled


def test_bob_runs_his_test_set_on_a_shared_assistant_without_its_draft(shared, deployment):
    _, bot = shared
    Store(deployment, BOB).create_test_set("bob's questions", ["Where is my order?"])
    bob = person(BOB)
    bob.switch_page("app_pages/test_sets.py").run()
    picker = ok(bob).selectbox(key="ts_assistant")
    assert f"Helpdesk · shared by {ANN}" in picker.options
    picker.set_value(bot).run()
    versions = ok(bob).selectbox(key="ts_version")
    assert versions.options == ["v1 · gpt-4.1-mini"]  # no "Draft" of Ann's


def test_compare_and_conversations_mark_someone_elses_shared_assistant(shared, deployment):
    bob = person(BOB)
    for page, key in (("app_pages/conversations.py", "conv_assistant"), ("app_pages/compare.py", None)):
        bob.switch_page(page).run()
        ok(bob)
        options = [o for s in bob.selectbox if key is None or s.key == key for o in s.options]
        assert f"Helpdesk · shared by {ANN}" in options, (page, options)
