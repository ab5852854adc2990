"""The pages, driven by AppTest in-process, talking to the local OpenAI server through the real SDK."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from playground import turn
from playground.assistant import DESCRIPTION_MAX
from tests.conftest import TEST_KEY
from tests.pages import (
    APP,
    NOTES,
    add_function,
    chat_texts,
    create,
    finish,
    results_table,
    texts,
    typed,
    typing_data,
    typing_value,
)
from tests.test_log import chat as log_chat


def test_first_visit_shows_an_empty_assistant_ready_to_build(app, log):
    assert app.chat_input[0].disabled is False
    assert "New thread" in texts(app, "caption")
    assert app.selectbox(key="cfg.model").value == "gpt-4.1-mini"
    # The live model list came from the server.
    assert "gpt-5" in app.selectbox(key="cfg.model").options
    [assistant] = log.list_assistants()
    assert app.query_params["assistant"] == str(assistant["id"])


def test_the_model_picker_says_when_a_model_shuts_down(app):
    assert any("gpt-4.1-mini: shutdown announced for 14 Jan 2027" in c for c in texts(app, "caption"))
    app.selectbox(key="cfg.model").set_value("o4-mini").run()
    assert any(w.startswith("o4-mini was shut down on 23 Oct 2026") for w in texts(app, "warning"))
    app.selectbox(key="cfg.model").set_value("gpt-5.5").run()
    assert not [w for w in texts(app, "warning") if "shut down" in w]
    assert not [c for c in texts(app, "caption") if "shutdown announced" in c]


def test_every_edit_is_saved_to_the_draft(app, log):
    app.text_input(key="cfg.name").input("Draft bot").run()
    app.toggle(key="cfg.sampling").set_value(True).run()
    app.slider(key="cfg.temperature").set_value(0.4).run()
    [assistant] = log.list_assistants()
    draft, _ = log.get_draft(assistant["id"])
    assert (draft.name, draft.temperature) == ("Draft bot", 0.4)
    assert log.list_versions(assistant["id"]) == []
    assert any("press Create" in c for c in texts(app, "caption"))


def test_create_makes_version_one(app, log):
    create(app)
    [assistant] = log.list_assistants()
    assert [v.number for v in log.list_versions(assistant["id"])] == [1]
    assert "v1 saved" in texts(app, "caption")
    assert app.button(key="save_version").label == "Update"


def test_typed_text_is_kept_as_the_draft_and_only_update_makes_a_version(app, log):
    create(app)
    assert "v1 saved" in texts(app, "caption")
    typed(app, "cfg.instructions", "Be very brief.").run()  # what the field sends after a pause
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].instructions == "Be very brief."
    with log.write() as db:  # a pause far longer than the old auto-save's
        db.execute("UPDATE drafts SET updated_at = :at", {"at": time.time() - 600})
    app.run().run()
    assert len(log.list_versions(assistant["id"])) == 1
    [status] = [c for c in texts(app, "caption") if c.startswith("Draft saved")]
    assert status.endswith("· Update or send to make v2")
    app.button(key="save_version").click().run()
    versions = log.list_versions(assistant["id"])
    assert [v.number for v in versions] == [2, 1] and versions[0].config.instructions == "Be very brief."
    assert "v2 saved" in texts(app, "caption")
    assert not [c for c in texts(app, "caption") if c.startswith("Draft saved")]


def test_every_typed_value_reaches_the_draft_valid_or_not(app, log):
    create(app)
    typed(app, "cfg.description", "x" * (DESCRIPTION_MAX + 1)).run()
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].description == "x" * (DESCRIPTION_MAX + 1)
    assert any(c.endswith("fix the fields marked in red before it can become a version") for c in texts(app, "caption"))
    assert texts(app, "error")  # named by validation, not cut
    typed(app, "cfg.description", "").run()  # the same text again is written too (nothing is skipped)
    typed(app, "cfg.description", "").run()
    assert log.get_draft(assistant["id"])[0].description == ""
    assert "v1 saved" in texts(app, "caption") and len(log.list_versions(assistant["id"])) == 1


def test_the_typing_field_shows_a_value_set_by_code_and_never_echoes_typing(app, log):
    create(app, instructions="Answer in English.")
    shown = typing_data(app, "cfg.instructions")
    typed(app, "cfg.instructions", "Answer in French.").run()
    # The text that arrived is what the field already shows: same generation, the browser keeps its own.
    assert typing_data(app, "cfg.instructions") == {**shown, "value": "Answer in French."}
    app.button(key="save_version").click().run()
    app.switch_page("app_pages/versions.py").run()
    app.selectbox(key="restore_pick").set_value(1).run()
    app.button(key="restore").click().run()
    app.button(key="versions_open").click().run()
    # Set by code (a restore): a new generation, so the browser replaces what it shows.
    assert typing_value(app, "cfg.instructions") == "Answer in English."
    assert typing_data(app, "cfg.instructions")["gen"] > shown["gen"]
    # Typed over an older generation: the typing is kept, and the field is told to show it.
    app.switch_page("app_pages/chat.py").run()  # AppTest's next run() would run the Versions page again
    typed(app, "cfg.instructions", "Answer in German.", gen=shown["gen"]).run()
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].instructions == "Answer in German."
    assert typing_value(app, "cfg.instructions") == "Answer in German."


def test_invalid_fields_show_inline_and_are_not_versioned(app, log):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    app.button[[b.label for b in app.button].index("Add function")].click().run()
    app.text_input(key="cfg.fn.0.name").input("bad name").run()
    app.text_area(key="cfg.fn.0.parameters").input("{not json").run()
    errors = texts(app, "error")
    assert "A function name is 1–64 letters, digits, _ or - (no spaces)." in errors
    assert any(e.startswith("Not valid JSON (line 1, column 2)") for e in errors)
    [assistant] = log.list_assistants()
    draft, _ = log.get_draft(assistant["id"])
    assert draft.functions[0].parameters == "{not json"  # the edit is kept as typed
    app.button(key="save_version").click().run()
    assert any(e.startswith("Not saved: 2 field(s)") for e in texts(app, "error"))
    assert len(log.list_versions(assistant["id"])) == 1

    # Sending with a broken config is refused before any request, and the message is kept in the log.
    app.chat_input[0].set_value("Will this send?").run()
    assert any("Not sent" in w for w in texts(app, "warning"))
    box = f"unsent.{assistant['id']}"
    assert app.text_area(key=box).value == "Will this send?"
    assert log.get_unsent(assistant["id"]) == "Will this send?"


def test_a_refused_message_survives_a_reload_and_is_sent_once_the_config_is_fixed(app, log, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    app.button[[b.label for b in app.button].index("Add function")].click().run()
    app.text_input(key="cfg.fn.0.name").input("bad name").run()
    app.chat_input[0].set_value("Keep me").run()
    [assistant] = log.list_assistants()
    assert not [r for r in upstream.requests if r["path"].endswith("/responses")]

    reloaded = AppTest.from_file(APP, default_timeout=30).run()
    box = f"unsent.{assistant['id']}"
    assert reloaded.text_area(key=box).value == "Keep me"
    reloaded.text_area(key=box).input("Keep me, edited").run()
    reloaded.text_input(key="cfg.fn.0.name").input("good_name").run()
    reloaded.button(key="send_unsent").click().run()
    assert not reloaded.exception, reloaded.exception
    assert chat_texts(reloaded) == ["Keep me, edited", "Echo: Keep me, edited"]
    assert log.get_unsent(assistant["id"]) is None
    assert not [t for t in texts(reloaded, "warning") if "Not sent" in t]


def test_send_streams_a_reply_and_logs_it(app, log, upstream):
    create(app)
    upstream.script({"chunks": ["Hello", " from", " the server."]})
    app.chat_input[0].set_value("Hi!").run()
    assert not app.exception, app.exception
    assert chat_texts(app) == ["Hi!", "Hello from the server."]
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    assert thread.title == "Hi!" and thread.conversation_id
    assert app.query_params["thread"] == str(thread.id)
    badge = app.chat_message[1].caption[0].value
    assert "gpt-4.1-mini" in badge and "v1" in badge


def test_sending_saves_the_current_config_as_a_version_first(app, log, upstream):
    create(app)
    typed(app, "cfg.instructions", "Answer in French.").run()
    app.chat_input[0].set_value("Bonjour").run()
    [assistant] = log.list_assistants()
    latest = log.latest_version(assistant["id"])
    assert latest.number == 2 and latest.config.instructions == "Answer in French."
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["instructions"] == "Answer in French."
    assert log.list_messages(log.list_threads(assistant["id"])[0].id)[-1].version_id == latest.id
    # A reply drawn in place (no rerun): the status line was redrawn by the send that made v3.
    typed(app, "cfg.instructions", "Answer in Spanish.").run()
    app.chat_input[0].set_value("Hola").run()
    assert log.latest_version(assistant["id"]).number == 3
    assert "v3 saved" in texts(app, "caption")
    assert not [c for c in texts(app, "caption") if c.startswith("Draft saved")]


def test_reruns_make_no_upstream_requests(app, upstream):
    create(app)
    app.chat_input[0].set_value("Hi").run()
    count = len(upstream.requests)
    app.run()
    typed(app, "cfg.description", "no API call for this").run()
    app.run()
    assert len(upstream.requests) == count


def test_new_thread_asks_first_then_starts_empty(app, log):
    create(app)
    app.chat_input[0].set_value("first thread").run()
    app.button(key="new_thread").click().run()
    app.button(key="dlg_new_thread_yes").click().run()
    assert chat_texts(app) == []
    assert "New thread" in texts(app, "caption")
    app.chat_input[0].set_value("second thread").run()
    [assistant] = log.list_assistants()
    assert [t.title for t in log.list_threads(assistant["id"])] == ["second thread", "first thread"]


def test_resume_a_thread_from_the_sidebar(app, log):
    create(app)
    app.chat_input[0].set_value("old thread").run()
    [assistant] = log.list_assistants()
    old = log.list_threads(assistant["id"])[0]
    app.button(key="new_thread").click().run()
    app.button(key="dlg_new_thread_yes").click().run()
    app.chat_input[0].set_value("new thread").run()
    app.button(key=f"thread.{old.id}").click().run()
    assert chat_texts(app) == ["old thread", "Echo: old thread"]


def test_a_failed_turn_shows_the_sentence_and_retry_does_not_duplicate(app, log, upstream):
    create(app)
    upstream.script({"status": 401, "error": {"message": "bad key", "type": "invalid_request_error"}})
    app.chat_input[0].set_value("Are you there?").run()
    assert "The API key was rejected (401). Check it in the sidebar." in texts(app, "error")
    assert chat_texts(app) == ["Are you there?"]
    app.button(key="retry").click().run()
    assert chat_texts(app) == ["Are you there?", "Echo: Are you there?"]
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    assert [m.content for m in log.list_messages(thread.id) if m.role == "user"] == ["Are you there?"]
    assert not texts(app, "error")


def test_conversation_gone_offers_a_new_thread(app, log, upstream):
    create(app)
    app.chat_input[0].set_value("hello").run()
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    log.set_conversation(thread.id, "conv_gone")
    app.chat_input[0].set_value("still there?").run()
    assert any("no longer exists upstream" in e for e in texts(app, "error"))
    app.button(key="gone_new_thread").click().run()
    assert chat_texts(app) == []


def test_missing_key_shows_the_setup_panel(upstream, db_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.chat_input[0].disabled
    assert any("Connect an API key to chat" in i for i in texts(at, "info"))
    assert upstream.requests == []
    # Typing a key in the sidebar enables chat, and that visitor gets a log of their own.
    at.text_input(key="api_key").input("sk-visitor-abcdefghijklmnop").run()
    assert not at.chat_input[0].disabled
    assert "Key sk-…mnop · typed here" in texts(at, "caption")


def test_check_connection_reports_models_or_the_problem(app, upstream):
    app.button[[b.label for b in app.button].index("Check connection")].click().run()
    assert any(s.startswith("Connected:") for s in texts(app, "success"))


def test_check_connection_says_what_is_wrong(upstream, db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    at = AppTest.from_file(APP, default_timeout=60).run()
    # Not OpenAI's host, so no list of OpenAI's models stands in (test_provider_pages has the rest).
    assert any("No model list from this server: type a model id" in c for c in texts(at, "caption"))
    at.button[[b.label for b in at.button].index("Check connection")].click().run()
    assert any(e.startswith("Could not reach the API") for e in texts(at, "error"))


def test_assistants_page_table_opens_clones_and_archives(app, log, upstream):
    create(app, name="Listed bot")
    app.chat_input[0].set_value("hello").run()
    app.switch_page("app_pages/assistants.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    row = table[table.name == "Listed bot"].iloc[0]
    assert (row.versions, row.threads, row.turns, row.model) == (1, 1, 1, "gpt-4.1-mini")
    assert row.tokens > 0 and row["est. cost"].startswith("$")
    [assistant] = log.list_assistants()
    app.button(key=f"clone_{assistant['id']}").click().run()
    assert sorted(a["name"] for a in log.list_assistants()) == ["Listed bot", "Listed bot (copy)"]
    app.selectbox(key="assistants_pick").set_value(assistant["id"]).run()
    app.button(key=f"archive_{assistant['id']}").click().run()
    assert [a["name"] for a in log.list_assistants()] == ["Listed bot (copy)"]
    app.toggle(key="assistants_archived").set_value(True).run()
    app.selectbox(key="assistants_pick").set_value(assistant["id"]).run()
    app.button(key=f"archive_{assistant['id']}").click().run()  # now "Unarchive"
    assert len(log.list_assistants()) == 2
    app.button(key=f"open_{assistant['id']}").click().run()
    assert app.text_input(key="cfg.name").value == "Listed bot"


def test_versions_page_diffs_and_restores(app, log):
    create(app, name="Versioned", instructions="Answer in English.")
    typed(app, "cfg.instructions", "Answer in French.").run()
    app.toggle(key="cfg.sampling").set_value(True).run()
    app.slider(key="cfg.temperature").set_value(0.3).run()
    app.button(key="save_version").click().run()
    app.switch_page("app_pages/versions.py").run()
    assert not app.exception, app.exception
    assert list(app.dataframe[0].value.version) == ["v2", "v1"]
    [diff] = [c.value for c in app.code]
    assert "-Answer in English." in diff and "+Answer in French." in diff
    fields = app.dataframe[1].value
    assert list(fields.field) == ["temperature", "top_p"]  # custom sampling sends both
    app.selectbox(key="restore_pick").set_value(1).run()
    app.button(key="restore").click().run()
    [assistant] = log.list_assistants()
    latest = log.latest_version(assistant["id"])
    assert (latest.number, latest.note, latest.config.instructions) == (3, "restored v1", "Answer in English.")
    app.button(key="versions_open").click().run()
    assert typing_value(app, "cfg.instructions") == "Answer in English."


def test_conversations_page_searches_opens_resumes_exports_and_deletes(app, log, upstream):
    create(app, name="Support")
    app.chat_input[0].set_value("What is the refund policy?").run()
    app.button(key="new_thread").click().run()
    app.button(key="dlg_new_thread_yes").click().run()
    app.chat_input[0].set_value("Opening hours?").run()
    app.switch_page("app_pages/conversations.py").run()
    assert not app.exception, app.exception
    assert sorted(app.dataframe[0].value.title) == ["Opening hours?", "What is the refund policy?"]

    app.text_input(key="conv_search").input("refund").run()
    assert list(app.dataframe[0].value.title) == ["What is the refund policy?"]
    assert any("**refund**" in m for m in texts(app))
    # The read-only view shows the thread with its trace buttons.
    view = app.get("flex_container")
    assert "Echo: What is the refund policy?" in chat_texts(app)
    assert view is not None

    [assistant] = log.list_assistants()
    refund = next(t for t in log.list_threads(assistant["id"]) if t.title.startswith("What"))
    app.button(key="conv_resume").click().run()
    assert app.query_params["thread"] == str(refund.id)
    assert chat_texts(app)[0] == "What is the refund policy?"

    app.switch_page("app_pages/conversations.py").run()
    app.text_input(key="conv_search").input("refund").run()
    app.button(key="conv_delete").click().run()
    app.button(key="dlg_delete_yes").click().run()
    assert [t.title for t in log.list_threads(assistant["id"])] == ["Opening hours?"]


def test_usage_page_rolls_up_and_names_unpriced_models(app, log, upstream):
    create(app)
    app.chat_input[0].set_value("hi").run()
    [assistant] = log.list_assistants()
    version = log.latest_version(assistant["id"])
    log_chat(log, assistant["id"], version.id, ("again", "ok"), model="my-local-model")
    app.switch_page("app_pages/usage.py").run()
    assert not app.exception, app.exception
    assert app.metric[0].value == "2"
    assert any("No price for my-local-model" in c for c in texts(app, "caption"))
    table = app.dataframe[0].value
    [cost] = table.cost  # v1 ran once on a model without a price: said, not a silent $0 or an undercount
    assert cost.startswith("$") and cost.endswith(" + 1 run with no price")
    assert app.metric[2].value.startswith("$")  # the total counts the priced runs and says so


def test_new_assistant_from_the_sidebar(app, log):
    create(app, name="First")
    app.button[[b.label for b in app.button].index("New assistant")].click().run()
    assert app.text_input(key="cfg.name").value == ""
    assert len(log.list_assistants()) == 2


def test_a_hidden_field_kept_for_one_assistant_does_not_follow_to_the_next(app, log):
    create(app, name="First")
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.text_input(key="cfg.vector_store_ids").input("vs_first").run()
    app.toggle(key="cfg.file_search").set_value(False).run()
    app.button[[b.label for b in app.button].index("New assistant")].click().run()
    app.toggle(key="cfg.file_search").set_value(True).run()
    assert app.text_input(key="cfg.vector_store_ids").value == ""
    second = max(a["id"] for a in log.list_assistants())
    assert log.get_draft(second)[0].file_search.vector_store_ids == []


def test_model_html_is_shown_as_text(app, upstream):
    create(app)
    upstream.script({"text": "<script>alert(1)</script><b>bold?</b>"})
    app.chat_input[0].set_value("html please").run()
    # st.markdown without unsafe_allow_html escapes HTML; the element keeps the raw text.
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    assert reply.markdown[0].value == "<script>alert(1)</script><b>bold?</b>"
    assert reply.markdown[0].allow_html is False


def test_visitors_with_their_own_keys_never_see_each_others_log(upstream, db_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    alice, bob = (AppTest.from_file(APP, default_timeout=30).run() for _ in range(2))
    alice.text_input(key="api_key").input("sk-alice-0123456789abcdef").run()
    bob.text_input(key="api_key").input("sk-bob-0123456789abcdefgh").run()
    create(alice, name="Alice's bot")
    alice.chat_input[0].set_value("secret plan").run()
    bob.run()
    assert "Alice's bot" not in [*bob.selectbox[0].options, bob.text_input(key="cfg.name").value]
    assert "secret plan" not in chat_texts(bob)
    # Each request carried its own visitor's key: the client is built per use, never shared.
    keys = {r["headers"].get("authorization") for r in upstream.requests}
    assert keys <= {"Bearer sk-alice-0123456789abcdef", "Bearer sk-bob-0123456789abcdefgh"}
    assert "Bearer sk-alice-0123456789abcdef" in keys
    for secret in ("sk-alice-0123456789abcdef", "sk-bob-0123456789abcdefgh"):
        assert secret.encode() not in db_path.read_bytes()


def test_a_typed_key_survives_a_page_switch(upstream, db_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="api_key").input("sk-visitor-0123456789abcdef").run()
    create(at, name="Visitor bot")
    at.switch_page("app_pages/assistants.py").run()
    assert any("typed here" in c for c in texts(at, "caption")), texts(at, "caption")
    at.switch_page("app_pages/chat.py").run()
    assert at.text_input(key="cfg.name").value == "Visitor bot"
    assert at.chat_input[0].disabled is False


def test_work_done_before_typing_a_key_is_kept_when_the_key_arrives(upstream, db_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="cfg.name").input("Built before the key").run()
    typed(at, "cfg.instructions", "Be kind.").run()
    at.text_input(key="api_key").input("sk-late-0123456789abcdefgh").run()
    assert not at.exception, at.exception
    assert at.text_input(key="cfg.name").value == "Built before the key"
    assert typing_value(at, "cfg.instructions") == "Be kind."
    # A stranger without a key does not see it.
    stranger = AppTest.from_file(APP, default_timeout=30).run()
    assert "Built before the key" not in [*stranger.selectbox[0].options, stranger.text_input(key="cfg.name").value]


def test_function_calls_are_answered_by_hand_and_by_handler(app, log, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_weather")
    add_function(app, "get_current_time")
    assert [app.text_input(key=f"cfg.fn.{i}.name").value for i in (0, 1)] == ["get_weather", "get_current_time"]
    upstream.script(
        {
            "function_calls": [
                {"name": "get_weather", "arguments": '{"city": "Paris"}', "call_id": "call_w"},
                {"name": "get_current_time", "arguments": '{"timezone": "UTC"}', "call_id": "call_t"},
            ]
        }
    )
    app.chat_input[0].set_value("Weather and time in Paris?").run()
    assert not app.exception, app.exception
    # get_weather has no handler, so the turn waits for a typed output; get_current_time's
    # handler will answer when the outputs are sent (or the user may type it instead).
    assert app.chat_input[0].disabled
    assert app.toggle(key="call.call_t.by_hand").value is False
    assert app.text_area(key="call.call_w.output").value == ""
    assert "The get_current_time handler runs when you send." in texts(app, "caption")

    app.button(key="send_outputs").click().run()  # nothing typed for get_weather yet
    assert "Type an output for get_weather." in texts(app, "error")

    # What is typed is kept in the log at once: a reload (a new session) finds it.
    app.text_area(key="call.call_w.output").input('{"temp_c": 21}').run()
    again = AppTest.from_file(APP, default_timeout=30).run()
    assert again.text_area(key="call.call_w.output").value == '{"temp_c": 21}' and again.chat_input[0].disabled

    again.button(key="send_outputs").click().run()
    assert not again.exception, again.exception
    final = chat_texts(again)[-1]
    assert final.startswith("The function returned:") and '{"temp_c": 21}' in final and '"timezone": "UTC"' in final
    assert not again.chat_input[0].disabled
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    calls = log.thread_tool_calls(thread.id)
    assert [(c.name, c.status, c.source) for c in calls] == [
        ("get_weather", "answered", "hand"),
        ("get_current_time", "answered", "handler"),
    ]


def test_handlers_answer_by_themselves_and_a_chain_of_calls_stops(app, log, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_current_time")
    call = {"name": "get_current_time", "arguments": '{"timezone": "UTC"}'}
    upstream.script({"function_calls": [call]}, {"text": "It is noon."})
    app.chat_input[0].set_value("What time is it?").run()
    assert not app.exception, app.exception
    assert chat_texts(app)[-1] == "It is noon."  # no click: the handler answered
    assert not app.chat_input[0].disabled

    # A model that keeps calling is stopped after AUTO_ROUNDS_MAX automatic rounds.
    upstream.script(*[{"function_calls": [call]} for _ in range(turn.AUTO_ROUNDS_MAX + 3)])
    app.chat_input[0].set_value("Again and again").run()
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    user = [m for m in log.list_messages(thread.id) if m.role == "user"][-1]
    runs = [r for r in log.list_runs(thread.id) if r.user_message_id == user.id]
    assert len(runs) == turn.AUTO_ROUNDS_MAX + 1
    assert app.button(key="send_outputs") is not None and app.chat_input[0].disabled


def test_a_failed_continuation_waits_for_the_user(app, log, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_current_time")
    upstream.script(
        {"function_calls": [{"name": "get_current_time", "arguments": '{"timezone": "UTC"}'}]},
        {"status": 500, "times": 3},
    )
    app.chat_input[0].set_value("Time?").run()
    assert any(e.startswith("Sending the outputs failed") for e in texts(app, "error"))
    before = len(upstream.requests)
    app.run()
    assert len(upstream.requests) == before  # no loop: a rerun does not send again by itself
    assert any('"iso"' in c.value for c in app.code)  # the handler's output, kept to send again
    app.button(key="send_outputs").click().run()
    assert chat_texts(app)[-1].startswith("The function returned:")


def test_arguments_that_break_the_schema_are_flagged_in_the_chat(app, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_weather")
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": '{"town": "Paris"}', "call_id": "c1"}]})
    app.chat_input[0].set_value("Weather?").run()
    assert any("Arguments do not match the schema" in w and "city" in w for w in texts(app, "warning"))


def test_file_search_upload_indexing_citations_and_trace(app, log, upstream):
    create(app)
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.button(key="fs_new_store").click().run()
    [vs] = log.list_vector_stores()
    assert app.text_input(key="cfg.vector_store_ids").value == vs["id"]

    # Bad files are refused with a sentence, before any upload.
    app.file_uploader(key="fs_upload_0").set_value(("big.txt", b"x" * (21 * 1024 * 1024), "text/plain")).run()
    assert any(e.startswith("big.txt is 21.0 MB; the limit here is 20 MB.") for e in texts(app, "error"))
    assert not [r for r in upstream.requests if r["path"] == "/v1/files"]

    app.file_uploader(key="fs_upload_1").set_value(("notes.txt", NOTES, "text/plain")).run()
    assert not app.exception, app.exception
    assert any("Indexing… 0 of 1 files ready" in p.text for p in app.get("progress"))
    for _ in range(4):  # each rerun asks upstream while the file is indexing
        app.run()
    assert not app.get("progress")
    assert any("notes.txt" in m for m in texts(app)) and "completed" in texts(app, "caption")

    upstream.script({"text": "The launch moves to Friday.", "file_search": {"queries": ["launch"]}})
    app.chat_input[0].set_value("When is the launch?").run()
    assert not app.exception, app.exception
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    footnote = reply.caption[0].value
    assert footnote.startswith("[1] **notes\\.txt** — “Meeting notes: the launch moves to Friday")

    message = log.list_messages(log.list_threads(log.list_assistants()[0]["id"])[0].id)[-1]
    app.button(key=f"trace.{message.id}").click().run()
    assert not app.exception, app.exception
    steps = [m for m in texts(app) if m.startswith("**1.") or m.startswith("**2.")]
    assert steps == ["**1. file search**", "**2. message**"]


def test_code_interpreter_files_code_image_and_downloads(app, log, upstream):
    create(app)
    app.toggle(key="cfg.code_interpreter").set_value(True).run()
    # (A wrong type never reaches the app: Streamlit's uploader refuses it; files.check_upload is the backstop.)
    app.file_uploader(key="ci_upload_0").set_value(("empty.csv", b"", "text/csv")).run()
    assert "empty.csv is empty." in texts(app, "error")
    app.file_uploader(key="ci_upload_1").set_value(("sales.csv", b"month,total\njan,3\n", "text/csv")).run()
    [row] = log.list_files("code_interpreter")
    assert app.text_input(key="cfg.code_file_ids").value == row.file_id

    upstream.script(
        {
            "text": "Chart and summary attached.",
            "code_interpreter": {
                "code": "print(3)",
                "logs": "3\n",
                "image": True,
                "files": [{"filename": "summary.csv", "content": "total\n3\n"}],
            },
        }
    )
    app.chat_input[0].set_value("Chart the sales").run()
    assert not app.exception, app.exception
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["tools"][0]["container"] == {"type": "auto", "file_ids": [row.file_id]}
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    assert [c.value.strip() for c in reply.code] == ["print(3)", "3"]
    assert len(reply.get("image")) == 1
    labels = [d.proto.label for d in reply.get("download_button")]
    assert sorted(labels) == ["plot.png (0.1 KB)", "summary.csv (0.0 KB)"]

    # Removing the file takes it out of the container's list.
    app.button(key=f"ci_remove_{row.id}").click().run()
    assert app.text_input(key="cfg.code_file_ids").value == "" and log.list_files() == []


LEGACY = """{"object": "list", "data": [{"id": "asst_abc123", "object": "assistant", "created_at": 1717171717,
 "name": "Old helper", "description": null, "model": "gpt-4o", "instructions": "Help politely.",
 "tools": [{"type": "code_interpreter"}, {"type": "retrieval"}],
 "tool_resources": {"code_interpreter": {"file_ids": []}},
 "metadata": {}, "temperature": 0.7, "top_p": 1.0, "response_format": "auto"}]}"""


def test_import_a_legacy_assistant_and_export_a_version(app, log):
    app.switch_page("app_pages/assistants.py").run()
    app.text_area(key="import_text").input("not json").run()
    app.button(key="import_go").click().run()
    assert any(e.startswith("The text is not valid JSON") for e in texts(app, "error"))
    app.text_area(key="import_text").input(LEGACY).run()
    app.button(key="import_go").click().run()
    assert not app.exception, app.exception
    assert any("“Old helper”: v1" in s for s in texts(app, "success"))
    assert any("retrieval" in c for c in texts(app, "caption"))  # what did not map is listed
    imported = next(a for a in log.list_assistants() if a["name"] == "Old helper")
    [v1] = log.list_versions(imported["id"])
    assert (v1.config.model, v1.config.temperature, v1.config.code_interpreter.enabled) == ("gpt-4o", 0.7, True)
    assert v1.note.startswith("imported from asst_abc123")

    app.switch_page("app_pages/versions.py").run()
    app.selectbox(key="versions_pick").set_value(imported["id"]).run()
    labels = [d.proto.label for d in app.get("download_button")]
    assert labels == ["v1 as JSON", "v1 as a Python script"]


def test_compare_page_streams_two_versions_and_continues_one(app, log, upstream):
    create(app, name="Duo", instructions="Be brief.")
    typed(app, "cfg.instructions", "Be thorough.").run()
    app.button(key="save_version").click().run()
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception, app.exception
    assert (app.selectbox(key="cmp_left_v").value.number, app.selectbox(key="cmp_right_v").value.number) == (1, 2)
    app.button(key="cmp_send").click().run()
    assert "Type a message first." in texts(app, "error")
    app.text_area(key="cmp_text").input("Same question").run()
    app.button(key="cmp_send").click().run()
    assert not app.exception, app.exception
    assert texts(app).count("Echo: Same question") == 2
    assert sum(c.startswith("completed ·") for c in texts(app, "caption")) == 2
    [assistant] = log.list_assistants()
    assert len(log.list_threads(assistant["id"], kinds=("compare",))) == 2
    assert log.list_threads(assistant["id"]) == []  # the chat's list holds chat threads only
    app.button(key="cmp_continue_B").click().run()
    assert chat_texts(app) == ["Same question", "Echo: Same question"]
    assert typing_value(app, "cfg.instructions") == "Be thorough."
    [continued] = log.list_threads(assistant["id"])  # continued by hand, it joins the chat's list
    assert f"thread.{continued.id}" in [b.key for b in app.sidebar.button]


def test_test_set_from_a_conversation_replayed_against_a_baseline(app, log, upstream):
    create(app, name="Tester")
    app.chat_input[0].set_value("What is 2+2?").run()
    app.chat_input[0].set_value("And 3+3?").run()
    app.switch_page("app_pages/test_sets.py").run()
    assert not app.exception, app.exception
    app.button(key="ts_save").click().run()
    assert "Give the test set a name." in texts(app, "error")
    app.text_input(key="ts_name").input("Sums").run()
    app.button(key="ts_save").click().run()
    [test_set] = log.list_test_sets()
    assert (test_set["cases"], test_set["mode"]) == (2, "conversation")

    app.button(key="ts_run").click().run()
    assert not app.exception, app.exception
    finish(app, log, test_set["id"])
    first = results_table(app)
    assert list(first.output) == ["Echo: What is 2+2?", "Echo: And 3+3?"]

    upstream.script({"text": "Four."})
    app.button(key="ts_run").click().run()
    finish(app, log, test_set["id"])
    [_newest, older] = log.list_replays(test_set["id"])
    app.selectbox(key="ts_baseline").set_value(older["id"]).run()
    table = results_table(app)
    assert list(table.output) == ["Four.", "Echo: And 3+3?"]
    assert list(table["baseline output"]) == ["Echo: What is 2+2?", "Echo: And 3+3?"]


def test_metadata_table_keeps_pairs_names_problems_and_sends_them(app, log, upstream):
    create(app)
    rows = {"added_rows": [{"key": "team", "value": "support"}, {"key": "x" * 70, "value": "long key"}]}
    app.session_state["cfg.metadata_editor"] = {"edited_rows": {}, "added_rows": rows["added_rows"], "deleted_rows": []}
    app.run()
    assert any("has 70 characters; keys are at most 64." in t for t in texts(app, "error"))
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].metadata == {"team": "support", "x" * 70: "long key"}
    app.session_state["cfg.metadata_editor"] = {
        "edited_rows": {},
        "added_rows": [{"key": "team", "value": "support"}],
        "deleted_rows": [],
    }
    app.run()
    assert not [e for e in texts(app, "error") if "Keys are" in e]
    app.chat_input[0].set_value("Hi").run()
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["metadata"] == {"team": "support"}


def test_reasoning_effort_appears_for_reasoning_models_and_is_sent(app, upstream):
    create(app)
    assert not [s for s in app.selectbox if s.key == "cfg.reasoning_effort"]
    app.selectbox(key="cfg.model").set_value("gpt-5.4-mini").run()
    app.selectbox(key="cfg.reasoning_effort").set_value("low").run()
    app.chat_input[0].set_value("Think a little").run()
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["model"] == "gpt-5.4-mini" and body["reasoning"] == {"effort": "low"}
    assert "temperature" not in body and "top_p" not in body


def test_a_json_schema_response_format_is_checked_and_sent_as_text_format(app, log, upstream):
    create(app)
    app.selectbox(key="cfg.response_format").set_value("json_schema").run()
    app.text_area(key="cfg.schema").input('{"type": "object", "properties": {"a": {"type": "string"}}}').run()
    assert any("Strict mode" in e for e in texts(app, "error"))  # strict is on: every object closed
    app.chat_input[0].set_value("Not yet").run()
    assert not [r for r in upstream.requests if r["path"].endswith("/responses")]
    closed = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    schema = json.dumps({**closed, "additionalProperties": False})
    app.text_area(key="cfg.schema").input(schema).run()
    app.text_input(key="cfg.schema_name").input("answer").run()
    assert not [e for e in texts(app, "error") if "Strict mode" in e]
    app.button(key="send_unsent").click().run()
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["text"]["format"]["type"] == "json_schema" and body["text"]["format"]["name"] == "answer"
    assert body["text"]["format"]["schema"]["required"] == ["a"] and body["text"]["format"]["strict"] is True


def test_new_thread_cancel_keeps_the_thread_and_back_goes_to_assistants(app, log, upstream):
    create(app)
    app.chat_input[0].set_value("Keep this thread").run()
    app.button(key="new_thread").click().run()
    app.button(key="dlg_new_thread_no").click().run()
    assert chat_texts(app)[0] == "Keep this thread"
    app.button(key="back").click().run()
    assert not app.exception, app.exception
    assert any(b.key and b.key.startswith("open_") for b in app.button)  # the Assistants table's buttons


def test_a_long_thread_draws_its_newest_messages_and_shows_earlier_ones_on_request(app, log):
    create(app)
    [assistant] = log.list_assistants()
    version = log.latest_version(assistant["id"])
    thread = log.create_thread(assistant["id"], title="Long")
    for i in range(30):
        log.add_message(thread.id, "user", f"question {i}", version_id=version.id, status="complete")
        log.add_message(thread.id, "assistant", f"answer {i}", version_id=version.id, status="complete")
    app.session_state["thread_id"] = thread.id
    app.run()
    shown = chat_texts(app)
    assert len(shown) == 50 and shown[0] == "question 5" and shown[-1] == "answer 29"
    more = app.button(key=f"history_more.{thread.id}")
    assert more.label == "Show 10 earlier messages (10 not shown)"
    more.click().run()
    assert chat_texts(app)[0] == "question 0" and len(chat_texts(app)) == 60
    assert not [b for b in app.button if b.key == f"history_more.{thread.id}"]


def test_edits_in_hidden_fields_survive_hiding_and_showing_them(app, log):
    create(app)
    app.selectbox(key="cfg.response_format").set_value("json_schema").run()
    schema = '{"type": "object", "properties": {}, "additionalProperties": false}'
    app.text_area(key="cfg.schema").input(schema).run()
    app.text_input(key="cfg.schema_name").input("mine").run()
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.text_input(key="cfg.vector_store_ids").input("vs_1").run()
    app.toggle(key="cfg.sampling").set_value(True).run()
    app.slider(key="cfg.temperature").set_value(0.4).run()
    # Hide them all, edit something else, show them again: nothing typed is lost.
    app.selectbox(key="cfg.response_format").set_value("text").run()
    app.toggle(key="cfg.file_search").set_value(False).run()
    app.toggle(key="cfg.sampling").set_value(False).run()
    app.text_input(key="cfg.name").input("Renamed").run()
    [assistant] = log.list_assistants()
    draft, _ = log.get_draft(assistant["id"])
    assert draft.response_format.type == "text" and not draft.file_search.enabled and draft.temperature is None
    app.selectbox(key="cfg.response_format").set_value("json_schema").run()
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.toggle(key="cfg.sampling").set_value(True).run()
    assert app.text_input(key="cfg.schema_name").value == "mine"
    assert app.text_area(key="cfg.schema").value == schema
    assert app.text_input(key="cfg.vector_store_ids").value == "vs_1"
    assert app.slider(key="cfg.temperature").value == 0.4
    draft, _ = log.get_draft(assistant["id"])
    assert (draft.response_format.name, draft.response_format.schema) == ("mine", schema)
    assert (draft.file_search.vector_store_ids, draft.temperature, draft.name) == (["vs_1"], 0.4, "Renamed")


def test_a_cleared_number_goes_back_to_the_model_default(app, log):
    app.number_input(key="cfg.max_output_tokens").set_value(500).run()
    create(app)
    [assistant] = log.list_assistants()
    assert log.latest_version(assistant["id"]).config.max_output_tokens == 500
    app.number_input(key="cfg.max_output_tokens").set_value(None).run()
    app.button(key="save_version").click().run()
    assert log.latest_version(assistant["id"]).config.max_output_tokens is None
    # Reopened in a new session: still the model default, the box empty rather than the minimum.
    again = AppTest.from_file(APP, default_timeout=30).run()
    assert again.number_input(key="cfg.max_output_tokens").value is None
