"""Threads: rename, the chat's list (chat threads only, searchable by title and message text), and the
kinds filter of the Conversations queries. Store unit tests, then the pages with AppTest."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from playground import editor
from playground.assistant import AssistantConfig
from playground.store import Store
from tests.pages import texts
from tests.test_log import chat


def seed(store, name="Support"):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name=name, model="gpt-4.1-mini"))
    return a, v


# -- the store ----------------------------------------------------------------------------------


def test_rename_tidies_the_title_and_keeps_the_threads_place(store):
    a, v = seed(store)
    older = chat(store, a.id, v.id, ("first question", "ok"))
    newer = chat(store, a.id, v.id, ("second question", "ok"))
    before = store.get_thread(older.id).updated_at
    renamed = store.rename_thread(older.id, "  Refund\tpolicy \n draft\x00 ")
    assert renamed.title == "Refund policy draft"
    assert store.get_thread(older.id).title == "Refund policy draft"
    assert store.get_thread(older.id).updated_at == before  # a name is not activity
    assert [t.id for t in store.list_threads(a.id)] == [newer.id, older.id]
    # A later message does not take the name back.
    store.add_message(older.id, "user", "another question")
    assert store.get_thread(older.id).title == "Refund policy draft"


def test_a_title_too_long_is_refused_with_a_sentence_and_nothing_changes(store):
    a, v = seed(store)
    thread = chat(store, a.id, v.id, ("hello", "hi"))
    store.rename_thread(thread.id, "x" * Store.MAX_TITLE)  # exactly the limit is fine
    with pytest.raises(ValueError, match=f"at most {Store.MAX_TITLE} characters; this one has 101"):
        store.rename_thread(thread.id, "y" * (Store.MAX_TITLE + 1))
    assert store.get_thread(thread.id).title == "x" * Store.MAX_TITLE


def test_an_empty_title_gives_the_automatic_name_back(store):
    a, v = seed(store)
    thread = chat(store, a.id, v.id, ("What is the refund policy for damaged parcels?", "30 days"))
    store.rename_thread(thread.id, "Refunds")
    assert store.rename_thread(thread.id, "   ").title == "What is the refund policy for damaged parcels?"
    # A thread with no message yet has no name; its first message names it.
    blank = store.create_thread(a.id)
    store.rename_thread(blank.id, "Named early")
    assert store.rename_thread(blank.id, "").title == ""
    store.add_message(blank.id, "user", "first words here")
    assert store.get_thread(blank.id).title == "first words here"


def test_a_named_thread_keeps_its_name_through_its_first_turn(store):
    a, v = seed(store)
    thread = store.create_thread(a.id)
    store.rename_thread(thread.id, "Planned")
    store.start_turn(thread.id, "the first message", v.id, "gpt-4.1-mini")
    assert store.get_thread(thread.id).title == "Planned"


def test_another_owners_thread_cannot_be_renamed_or_changed(store):
    a, v = seed(store)
    thread = chat(store, a.id, v.id, ("mine", "ok"))
    stranger = Store(store.path, owner="key:someone-else")
    with pytest.raises(LookupError):
        stranger.rename_thread(thread.id, "Hijacked")
    with pytest.raises(LookupError):
        stranger.set_thread_kind(thread.id, "replay")
    with pytest.raises(LookupError):
        store.rename_thread(99999, "Nowhere")
    assert store.get_thread(thread.id).title == "mine" and store.get_thread(thread.id).kind == "chat"


def test_the_chat_list_holds_chat_threads_only_unless_asked(store):
    a, v = seed(store)
    mine = chat(store, a.id, v.id, ("my question", "ok"))
    replayed = store.create_thread(a.id, kind="replay")
    compared = store.create_thread(a.id, kind="compare")
    evaluated = store.create_thread(a.id, kind="eval")
    assert [t.id for t in store.list_threads(a.id)] == [mine.id]
    assert {t.id for t in store.list_threads(a.id, kinds=None)} == {mine.id, replayed.id, compared.id, evaluated.id}
    assert [t.id for t in store.list_threads(a.id, kinds=("compare",))] == [compared.id]
    assert store.list_threads(a.id, kinds=()) == []
    # Continued in the Playground, a compare thread becomes a chat thread.
    store.set_thread_kind(compared.id, "chat")
    assert {t.id for t in store.list_threads(a.id)} == {mine.id, compared.id}
    with pytest.raises(ValueError, match="Unknown thread kind"):
        store.set_thread_kind(mine.id, "banana")


def test_the_list_searches_titles_and_message_text(store):
    a, v = seed(store)
    refund = chat(store, a.id, v.id, ("Where is my parcel?", "Our refund policy says 30 days."))
    store.rename_thread(refund.id, "Ünïcode Café order")
    hours = chat(store, a.id, v.id, ("Opening hours?", "9 to 5"))
    other_a, other_v = seed(store, "Other")
    chat(store, other_a.id, other_v.id, ("refund for another assistant", "ok"))
    store.create_thread(a.id, kind="replay")
    replay = store.list_threads(a.id, kinds=("replay",))[0]
    store.add_message(replay.id, "user", "refund from a replay")

    def found(query, **kw):
        return [t.id for t in store.list_threads(a.id, query=query, **kw)]

    assert found("refund") == [refund.id]  # a reply's words: the other assistant's and the replay's stay out
    assert found("REF") == [refund.id]  # a prefix, any case
    assert found("cafe unicode") == [refund.id]  # title words in any order, accents ignored
    assert found("café") == [refund.id]
    assert found("hours") == [hours.id]
    assert found("zeppelin") == []
    assert found("   ") == [hours.id, refund.id]  # blank: no search
    assert found(None) == [hours.id, refund.id]
    assert found("refund", kinds=None) == [replay.id, refund.id]
    store.rename_thread(hours.id, "Hours?!")
    assert found("?!") == [hours.id]  # no letters: titles only, and no FTS syntax error
    assert found('"unbalanced') == []


def test_the_search_over_thousands_of_threads_lists_the_newest_fifty(store):
    a, _ = seed(store)
    now = time.time()
    with store.write() as db:
        for n in range(3000):
            t = db.execute(
                "INSERT INTO threads (assistant_id, title, created_at, updated_at) VALUES (:a, :title, :at, :at)",
                {"a": a.id, "title": f"question {n}", "at": now + n},
            ).lastrowid
            db.execute(
                "INSERT INTO messages (thread_id, role, content, status, created_at) VALUES (:t, 'user', :content, "
                "'complete', :at)",
                {"t": t, "content": f"question {n} about the refund of order {n}", "at": now + n},
            )
    # Speed is a benchmark's business (docs/decisions.md has the figures); this checks the answers.
    newest = [f"question {n}" for n in range(2999, 2949, -1)]
    assert [t.title for t in store.list_threads(a.id, query="refund")] == newest
    assert [t.title for t in store.list_threads(a.id, query="order")] == newest
    assert store.list_threads(a.id, query="nothing-matches") == []
    assert [t.title for t in store.list_threads(a.id, query="question 2999")] == ["question 2999"]


def test_conversations_hold_chat_threads_unless_asked(store):
    a, v = seed(store)
    mine = chat(store, a.id, v.id, ("refund please", "ok"))
    replayed = store.create_thread(a.id, kind="replay")
    store.add_message(replayed.id, "user", "refund from a replay")
    compared = store.create_thread(a.id, kind="compare")
    assert [t["id"] for t in store.conversations()] == [mine.id]
    assert store.conversation_ids() == [mine.id]
    assert store.conversation_ids(query="refund") == [mine.id]
    every = store.conversations(kinds=None)
    assert {t["id"]: t["kind"] for t in every} == {mine.id: "chat", replayed.id: "replay", compared.id: "compare"}
    assert store.conversation_ids(query="refund", kinds=None) == [replayed.id, mine.id]
    assert store.conversation_ids(kinds=("replay", "compare")) == [compared.id, replayed.id]
    # Asked by id, the kinds filter still holds (the page passes the same kinds to both).
    assert store.conversations(thread_ids=[replayed.id]) == []
    assert [t["id"] for t in store.conversations(thread_ids=[replayed.id], kinds=None)] == [replayed.id]


# -- the Playground's sidebar ------------------------------------------------------------------------


def sidebar_threads(app):
    return [b for b in app.sidebar.button if str(b.key).startswith("thread.")]


def test_the_sidebar_lists_chat_threads_with_their_dates_and_searches_them(app, log):
    [assistant] = log.list_assistants()
    a_id = assistant["id"]
    [v] = log.list_versions(a_id) or [log.save_version(a_id, AssistantConfig(name="Bot"))[0]]
    old = chat(log, a_id, v.id, ("Where is my parcel?", "On its way"))
    with log.write() as db:  # last active on 3 March 2025, 09:15 UTC
        at = dt.datetime(2025, 3, 3, 9, 15, tzinfo=dt.UTC).timestamp()
        db.execute("UPDATE threads SET updated_at = :at, created_at = :at WHERE id = :id", {"at": at, "id": old.id})
    new = chat(log, a_id, v.id, ("What is the **refund** policy?", "30 days"))
    log.create_thread(a_id, kind="replay")
    log.create_thread(a_id, kind="compare")
    app.context = {"timezone": "UTC"}
    app.run()
    assert not app.exception, app.exception
    buttons = sidebar_threads(app)
    assert [b.key for b in buttons] == [f"thread.{new.id}", f"thread.{old.id}"]  # no replay or compare thread
    assert buttons[0].label.startswith("What is the \\*\\*refund\\*\\* policy?")  # a title is drawn literally
    assert editor.clock(new.updated_at, "UTC") in buttons[0].label
    assert "3 Mar 2025" in buttons[1].label  # another year says which

    app.text_input(key="thread_search").input("parcel").run()
    assert [b.key for b in sidebar_threads(app)] == [f"thread.{old.id}"]
    app.text_input(key="thread_search").input("way").run()  # a reply's words find it too
    assert [b.key for b in sidebar_threads(app)] == [f"thread.{old.id}"]
    app.text_input(key="thread_search").input("zeppelin").run()
    assert sidebar_threads(app) == []
    assert "No thread matches “zeppelin”." in texts(app.sidebar, "caption")
    app.text_input(key="thread_search").input("").run()
    assert len(sidebar_threads(app)) == 2


def test_the_current_thread_is_renamed_from_the_sidebar_and_a_bad_title_is_a_field_message(app, log):
    app.chat_input[0].set_value("Hello there").run()
    assert not app.exception, app.exception
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    field = app.text_input(key=f"rename.{thread.id}")
    assert field.value == "Hello there"
    field.input("x" * (Store.MAX_TITLE + 1))  # in a form: sent with Save
    app.button(key="rename_save").click().run()
    assert not app.exception, app.exception
    assert any(f"at most {Store.MAX_TITLE} characters" in e for e in texts(app.sidebar, "error"))
    assert log.get_thread(thread.id).title == "Hello there"

    app.text_input(key=f"rename.{thread.id}").input("  My *launch* plan  ")
    app.button(key="rename_save").click().run()
    assert not app.exception, app.exception
    assert log.get_thread(thread.id).title == "My *launch* plan"
    assert texts(app.sidebar, "error") == []
    assert sidebar_threads(app)[0].label.startswith("My \\*launch\\* plan")

    app.text_input(key=f"rename.{thread.id}").input("")  # empty: back to the automatic name
    app.button(key="rename_save").click().run()
    assert log.get_thread(thread.id).title == "Hello there"


def test_another_owners_thread_id_cannot_be_renamed_from_the_sidebar(app, log):
    app.chat_input[0].set_value("Mine").run()
    stranger = Store(log.path, owner="key:someone-else")
    theirs_a = stranger.create_assistant()
    theirs = stranger.create_thread(theirs_a.id)
    stranger.add_message(theirs.id, "user", "Their secret")
    app.session_state["thread_id"] = theirs.id  # a stale or forged id in the session
    app.run()
    assert not app.exception, app.exception
    assert f"rename.{theirs.id}" not in [t.key for t in app.text_input]
    assert stranger.get_thread(theirs.id).title == "Their secret"
    assert all("Their secret" not in b.label for b in app.sidebar.button)


def test_a_rename_of_a_thread_deleted_meanwhile_is_a_sentence(app, log):
    app.chat_input[0].set_value("Soon gone").run()
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    app.text_input(key=f"rename.{thread.id}").input("New name")
    log.delete_thread(thread.id)
    app.button(key="rename_save").click().run()
    assert not app.exception, app.exception
    assert any("no longer in the log" in e for e in texts(app.sidebar, "error") + texts(app, "error"))


# -- Conversations ----------------------------------------------------------------------------------


def test_conversations_hide_made_threads_behind_a_filter(app, log):
    a, v = seed(log)
    mine = chat(log, a.id, v.id, ("my own question", "ok"))
    replayed = log.create_thread(a.id, kind="replay")
    log.add_message(replayed.id, "user", "a replayed question")
    compared = log.create_thread(a.id, kind="compare")
    log.add_message(compared.id, "user", "a compared question")
    app.switch_page("app_pages/conversations.py").run()
    assert not app.exception, app.exception
    assert list(app.dataframe[0].value.thread) == [mine.id]
    assert app.toggle(key="conv_made").value is False

    app.toggle(key="conv_made").set_value(True).run()
    table = app.dataframe[0].value
    assert list(table.thread) == [compared.id, replayed.id, mine.id]
    assert list(table["made by"]) == ["compare", "replay", "chat"]
    app.text_input(key="conv_search").input("question").run()
    assert "3 conversations match “question”." in texts(app, "caption")

    app.toggle(key="conv_made").set_value(False).run()
    assert list(app.dataframe[0].value.thread) == [mine.id]
    assert "1 conversation matches “question”." in texts(app, "caption")


def test_a_conversation_is_renamed_on_its_page_and_a_resumed_replay_joins_the_chat_list(app, log):
    a, _ = seed(log)
    replayed = log.create_thread(a.id, kind="replay")
    log.add_message(replayed.id, "user", "a replayed question")
    app.switch_page("app_pages/conversations.py").run()
    app.toggle(key="conv_made").set_value(True).run()
    assert app.selectbox(key="conv_open").value == replayed.id
    app.text_input(key=f"conv_title.{replayed.id}").input("y" * (Store.MAX_TITLE + 1))
    app.button(key="conv_rename").click().run()
    assert any(f"at most {Store.MAX_TITLE} characters" in e for e in texts(app, "error"))
    app.text_input(key=f"conv_title.{replayed.id}").input("Replay of the *launch* set")
    app.button(key="conv_rename").click().run()
    assert not app.exception, app.exception
    assert log.get_thread(replayed.id).title == "Replay of the *launch* set"
    assert "Replay of the *launch* set" in list(app.dataframe[0].value.title)

    app.button(key="conv_resume").click().run()
    assert not app.exception, app.exception
    assert log.get_thread(replayed.id).kind == "chat"
    assert f"thread.{replayed.id}" in [b.key for b in app.sidebar.button]
