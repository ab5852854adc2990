"""The pages against a server that is not OpenAI (issue 11): a model the server has, and what the
server cannot do said in the panel before anything is sent."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from playground import provider, settings
from tests.conftest import TEST_KEY
from tests.openai_server import OpenAIServer
from tests.pages import APP, texts

LOCAL_CHAT_MODELS = ["llama3.2:3b", "qwen2.5:7b-instruct"]


@pytest.fixture
def chat_server():
    """A Chat-Completions-only server with local models, as Ollama is."""
    with OpenAIServer(api="chat") as server:
        yield server
        assert server.violations == [], "requests that do not match the OpenAI spec"


def open_app(monkeypatch, base_url: str) -> AppTest:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def local_app(chat_server, db_path, monkeypatch):
    return open_app(monkeypatch, chat_server.base_url)


def test_the_picker_lists_the_servers_chat_models_only(local_app):
    options = local_app.selectbox(key="cfg.model").options
    assert all(m in options for m in LOCAL_CHAT_MODELS)
    assert "nomic-embed-text:latest" not in options  # an embedding model cannot chat
    assert not set(settings.FALLBACK_MODELS) & set(options)  # OpenAI's list belongs to OpenAI's host
    assert not [c for c in texts(local_app, "caption") if "fallback" in c]


def test_a_new_assistant_gets_a_model_the_server_has(local_app, log):
    assert local_app.selectbox(key="cfg.model").value == "llama3.2:3b"
    [first] = log.list_assistants()
    assert log.get_draft(first["id"])[0].model == "llama3.2:3b"
    # The sidebar's New assistant, and the Assistants page's.
    local_app.button[[b.label for b in local_app.button].index("New assistant")].click().run()
    assert local_app.selectbox(key="cfg.model").value == "llama3.2:3b"
    local_app.switch_page("app_pages/assistants.py").run()
    local_app.button[[b.label for b in local_app.button].index("New assistant")].click().run()
    assert not local_app.exception, local_app.exception
    drafts = [log.get_draft(a["id"])[0].model for a in log.list_assistants()]
    assert drafts == ["llama3.2:3b"] * 3


def test_another_server_without_a_list_offers_no_fallback_and_says_why(db_path, monkeypatch):
    at = open_app(monkeypatch, "http://127.0.0.1:9/v1")  # nothing listens there
    options = at.selectbox(key="cfg.model").options
    assert not set(settings.FALLBACK_MODELS) & set(options) - {at.selectbox(key="cfg.model").value}
    [said] = [c for c in texts(at, "caption") if "type a model id" in c]
    assert "Could not reach" in said and "fallback" not in said


def test_hosted_tools_are_off_limits_where_turns_run_over_chat_completions(chat_server, db_path, monkeypatch):
    monkeypatch.setenv(provider.API_ENV, "chat")
    at = open_app(monkeypatch, chat_server.base_url)
    assert at.toggle(key="cfg.file_search").disabled and at.toggle(key="cfg.code_interpreter").disabled
    assert at.toggle(key="cfg.functions_on").disabled is False  # functions run here, in the app
    assert any("only on OpenAI's Responses API" in c and "Chat Completions" in c for c in texts(at, "caption"))


def test_a_hosted_tool_already_on_can_still_be_turned_off_there(app, monkeypatch):
    app.toggle(key="cfg.file_search").set_value(True).run()
    monkeypatch.setenv(provider.API_ENV, "chat")  # the same assistant, now where turns run over chat
    app.run()
    assert not app.toggle(key="cfg.file_search").disabled and app.toggle(key="cfg.code_interpreter").disabled
    assert any(w.startswith("File search runs only on OpenAI's Responses API") for w in texts(app, "warning"))
    app.toggle(key="cfg.file_search").set_value(False).run()
    assert app.toggle(key="cfg.file_search").disabled
    assert not [w for w in texts(app, "warning") if "Responses API" in w]


def test_hosted_tools_stay_on_offer_where_the_way_is_not_known_to_be_chat(app):
    assert not app.toggle(key="cfg.file_search").disabled and not app.toggle(key="cfg.code_interpreter").disabled
    assert not [c for c in texts(app, "caption") if "only on OpenAI's Responses API" in c]


def test_reasoning_effort_is_kept_but_not_sent_for_a_model_that_does_not_reason(app, log, upstream):
    app.selectbox(key="cfg.model").set_value("o3").run()
    app.selectbox(key="cfg.reasoning_effort").set_value("high").run()
    app.selectbox(key="cfg.model").set_value("gpt-4.1").run()
    effort = app.selectbox(key="cfg.reasoning_effort")
    assert effort.disabled and effort.value == "high"
    assert "gpt-4.1 does not take reasoning effort; it is kept for models that do and not sent." in texts(
        app, "caption"
    )
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].reasoning_effort == "high"  # the panel never drops a field
    app.chat_input[0].set_value("Hello").run()
    assert not app.exception, app.exception
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["model"] == "gpt-4.1" and "reasoning" not in body
    assert not texts(app, "error"), texts(app, "error")  # the server takes it: the turn went through
    # Back on a model that reasons, the kept effort applies again.
    app.selectbox(key="cfg.model").set_value("o3").run()
    assert not app.selectbox(key="cfg.reasoning_effort").disabled
    assert app.selectbox(key="cfg.reasoning_effort").value == "high"
