"""The pages against a Chat-Completions-only server (as Ollama or vLLM are), with only OPENAI_BASE_URL set:
a new user chats, calls functions, compares, replays and exports. AppTest in-process, real SDK, real HTTP."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from playground import provider
from tests.conftest import TEST_KEY
from tests.pages import APP, add_function, chat_texts, create, finish, results_table, texts, typed


@pytest.fixture
def app(local, db_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", local.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.delenv(provider.API_ENV, raising=False)
    provider.forget_ways()
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    yield at
    provider.forget_ways()


def chat_posts(server):
    return [r for r in server.requests if r["path"] == "/v1/chat/completions"]


def open_page(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception


def test_a_new_user_chats_calls_a_function_compares_replays_and_exports(app, local, log):
    app.selectbox(key="cfg.model").set_value("llama3.2:3b").run()
    create(app, name="Local", instructions="Be brief.")
    app.chat_input[0].set_value("Hello").run()
    assert not app.exception, app.exception
    assert chat_texts(app) == ["Hello", "Echo: Hello"]
    assert [r["path"] for r in local.requests if r["method"] == "POST"] == [
        "/v1/conversations",  # the probe: 404, so the thread runs over Chat Completions
        "/v1/chat/completions",
    ]
    assert texts(app, "error") == []

    # A function with a handler: the model calls it, the handler answers, the turn goes on by itself.
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_current_time")
    local.script({"text": "", "function_calls": [{"name": "get_current_time", "arguments": {"timezone": "UTC"}}]})
    app.chat_input[0].set_value("What time is it?").run()
    assert not app.exception, app.exception
    assert chat_texts(app)[-1].startswith("The function returned:") and '"timezone": "UTC"' in chat_texts(app)[-1]
    last = chat_posts(local)[-1]["body"]
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert last["tools"][0]["type"] == "function" and last["tools"][0]["function"]["name"] == "get_current_time"

    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    assert thread.api == "chat" and thread.conversation_id is None

    # Compare: both sides stream over Chat Completions.
    typed(app, "cfg.instructions", "Be thorough.").run()
    app.button(key="save_version").click().run()
    open_page(app, "app_pages/compare.py")
    app.text_area(key="cmp_text").input("Same question").run()
    app.button(key="cmp_send").click().run()
    assert not app.exception, app.exception
    assert texts(app, "error") == []
    compared = [p["body"] for p in chat_posts(local)[-2:]]
    assert sorted(b["messages"][0]["content"] for b in compared) == ["Be brief.", "Be thorough."]

    # Replay the first conversation as a test set.
    open_page(app, "app_pages/test_sets.py")
    app.multiselect(key="ts_threads").set_value([thread.id]).run()
    app.text_input(key="ts_name").input("Local set").run()
    app.button(key="ts_save").click().run()
    app.button(key="ts_run").click().run()
    assert not app.exception, app.exception
    run = finish(app, log, log.list_test_sets()[0]["id"])
    assert run["status"] == "completed" and app.metric[1].value == "2 of 2"  # no graders: every answer passes
    assert results_table(app)["output"].iloc[0] == "Echo: Hello"

    # Export: the conversation as JSONL for fine-tuning holds the function call and its output.
    from playground import export

    exported = [json.loads(line) for line in export.conversation_jsonl(log, [thread.id]).splitlines()]
    roles = [m["role"] for m in exported[0]["messages"]]
    assert roles[:3] == ["system", "user", "assistant"] and "Echo: Hello" in json.dumps(exported)


def test_file_search_on_a_chat_server_is_refused_in_one_sentence_and_the_message_kept(app, local, log):
    app.selectbox(key="cfg.model").set_value("llama3.2:3b").run()
    create(app, name="Local")
    app.toggle(key="cfg.file_search").set_value(True).run()  # before the first turn, the way is not known
    app.text_input(key="cfg.vector_store_ids").input("vs_abc").run()
    app.chat_input[0].set_value("Search my files").run()
    assert not app.exception, app.exception
    assert any("File search runs only on OpenAI's Responses API" in e for e in texts(app, "error"))
    assert chat_posts(local) == []  # the probe only: nothing was sent to the model
    assert "Search my files" in chat_texts(app)


def test_truncation_is_a_setting_on_conversations_and_automatic_on_chat(app, local, upstream, monkeypatch, tmp_path):
    # On a Chat-Completions server the panel says trimming is automatic: no switch.
    app.selectbox(key="cfg.model").set_value("llama3.2:3b").run()
    create(app, name="Local")
    app.chat_input[0].set_value("Hello").run()  # the probe: this server keeps no conversations
    assert not [t for t in app.toggle if t.key == "cfg.truncation"]
    assert any("the oldest turns are left out" in c for c in texts(app, "caption"))

    # On OpenAI's Responses, it is a switch, and on it sends truncation: auto.
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("PLAYGROUND_DB", str(tmp_path / "openai.db"))  # that thread keeps its way (chat)
    on_openai = AppTest.from_file(APP, default_timeout=30).run()
    on_openai.toggle(key="cfg.truncation").set_value(True).run()
    on_openai.chat_input[0].set_value("Long thread ahead").run()
    assert not on_openai.exception, on_openai.exception
    [body] = [r["body"] for r in upstream.requests if r["path"] == "/v1/responses"]
    assert body["truncation"] == "auto"
