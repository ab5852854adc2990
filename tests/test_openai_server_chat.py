"""The local server's Chat Completions, driven by the real SDK: faithful to upstream, or the chat tests
that build on it prove nothing. Every request is also checked against the official spec (`upstream`)."""

from __future__ import annotations

import json

import openai
import pytest

from playground.client import make_client
from tests.openai_server import OpenAIServer

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture
def client(upstream, key):
    return make_client(key, upstream.base_url)


@pytest.fixture
def chat_only(key):
    """A server that speaks Chat Completions only, as Ollama, vLLM, LM Studio and llama.cpp do here."""
    with OpenAIServer(api="chat") as server:
        yield server, make_client(key, server.base_url)
        assert server.violations == []


def collect(stream) -> tuple[str, list, str | None, object]:
    """Text, tool calls (merged from their pieces), finish reason and usage of a streamed completion."""
    text, calls, finish, usage = "", {}, None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
            for piece in choice.delta.tool_calls or []:
                call = calls.setdefault(piece.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = piece.id or call["id"]
                call["name"] += (piece.function and piece.function.name) or ""
                call["arguments"] += (piece.function and piece.function.arguments) or ""
    return text, [calls[i] for i in sorted(calls)], finish, usage


def test_a_streamed_reply_with_its_usage_chunk(client, upstream):
    upstream.script({"chunks": ["Hel", "lo"], "usage": {"prompt_tokens": 7, "completion_tokens": 2}})
    stream = client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, calls, finish, usage = collect(stream)
    assert (text, calls, finish) == ("Hello", [], "stop")
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 2, 9)


def test_no_usage_chunk_unless_asked_for(client, upstream):
    stream = client.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    text, _, _, usage = collect(stream)
    assert text == "Echo: Hi" and usage is None


def test_a_three_turn_history_with_a_function_call_in_the_middle(client, upstream):
    history = [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Oslo?"}]
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]})
    _, calls, finish, _ = collect(
        client.chat.completions.create(model="gpt-4.1-mini", messages=history, tools=[WEATHER], stream=True)
    )
    assert finish == "tool_calls" and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"}
    history += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": calls[0]["id"], "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": calls[0]["id"], "content": '{"temp": 3}'},
    ]
    reply = client.chat.completions.create(model="gpt-4.1-mini", messages=history, tools=[WEATHER])
    assert reply.choices[0].message.content == 'The function returned: {"temp": 3}'
    history += [{"role": "assistant", "content": reply.choices[0].message.content}]
    history += [{"role": "user", "content": "And tomorrow?"}]
    reply = client.chat.completions.create(model="gpt-4.1-mini", messages=history, tools=[WEATHER])
    assert reply.choices[0].message.content == "Echo: And tomorrow?" and reply.usage.total_tokens > 0
    sent = [r["body"]["messages"] for r in upstream.requests if r["path"] == "/v1/chat/completions"]
    assert [len(m) for m in sent] == [2, 4, 6]  # the whole history, every turn


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "tool", "tool_call_id": "call_1", "content": "x"}], "must be a response to a preceeding"),
        (
            [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "user", "content": "well?"},
            ],
            "did not have response messages: call_1",
        ),
    ],
)
def test_tool_messages_out_of_order_are_refused(client, messages, fragment):
    with pytest.raises(openai.BadRequestError, match=fragment):
        client.chat.completions.create(model="gpt-4.1-mini", messages=messages)


@pytest.mark.parametrize(
    ("model", "fields", "param"),
    [
        ("gpt-4.1", {"reasoning_effort": "high"}, "reasoning_effort"),
        ("gpt-4o-mini", {"reasoning_effort": "low"}, "reasoning_effort"),
        ("o3", {"temperature": 0.2}, "temperature"),
        ("gpt-5", {"max_tokens": 100}, "max_tokens"),
    ],
)
def test_what_the_real_api_refuses_for_a_model(client, model, fields, param):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **fields)
    assert refused.value.body["param"] == param


def test_reasoning_effort_is_taken_where_the_model_reasons(client):
    for model in ("o3", "gpt-5", "llama3.2:3b"):  # a local model: nobody here can know, so it is sent
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], reasoning_effort="low"
        )
        assert reply.choices[0].message.content == "Echo: hi"


def test_json_mode_needs_the_word_json(client):
    with pytest.raises(openai.BadRequestError, match="must contain the word 'json'"):
        client.chat.completions.create(
            model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_object"}
        )


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"cut_after": 1}, openai.APIConnectionError),
        ({"error_event_after": 1}, openai.APIError),
        ({"malformed_after": 1}, json.JSONDecodeError),
    ],
)
def test_faults_mid_stream(client, upstream, fault, error):
    upstream.script({"chunks": ["a", "b", "c"], **fault})
    stream = client.chat.completions.create(
        model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = ""
    with pytest.raises(error):
        for chunk in stream:
            text += "".join(c.delta.content or "" for c in chunk.choices)
    assert text == "a"


def test_a_reply_cut_for_length_says_so(client, upstream):
    upstream.script({"chunks": ["a", "b", "c"], "incomplete_after": 2})
    stream = client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, _, finish, usage = collect(stream)
    assert (text, finish) == ("ab", "length") and usage is not None


def test_an_http_error_is_retried_by_the_sdk_then_raised(client, upstream):
    upstream.script({"status": 500, "times": 3})
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": "hi"}])
    assert len([r for r in upstream.requests if r["path"] == "/v1/chat/completions"]) == 3


def test_a_chat_only_server_has_no_conversations_responses_or_files(chat_only):
    server, client = chat_only
    for call in (
        lambda: client.conversations.create(),
        lambda: client.responses.create(model="llama3.2:3b", input="hi"),
        lambda: client.files.list(),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert [m.id for m in client.models.list()] == ["llama3.2:3b", "qwen2.5:7b-instruct", "nomic-embed-text:latest"]
    server.script({"text": "Scripted"})  # a reply scripted for a turn answers Chat Completions too
    reply = client.chat.completions.create(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Scripted"


def test_a_function_name_with_a_trailing_newline_is_refused_on_both_apis(client):
    # The spec's pattern (a regex `$`) lets "name\n" through; the real API refuses it.
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="gpt-4.1-mini",
            messages=[{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "get_weather\n", "parameters": {"type": "object"}}}],
        )
    assert refused.value.body["param"] == "tools[0].function.name"
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(
            model="gpt-4.1-mini",
            input="hi",
            tools=[{"type": "function", "name": "get_weather\n", "parameters": {"type": "object"}, "strict": False}],
        )
    assert refused.value.body["param"] == "tools[0].name"


def test_a_server_without_conversations_or_responses_is_named_in_a_sentence(chat_only):
    from playground.errors import describe

    _, client = chat_only
    for call, api in (
        (lambda: client.conversations.create(), "Conversations"),
        (lambda: client.responses.create(model="llama3.2:3b", input="hi"), "Responses"),
    ):
        with pytest.raises(openai.NotFoundError) as missing:
            call()
        problem = describe(missing.value)
        assert problem.kind == "api_missing" and f"has no {api} API" in problem.message
        assert "OPENAI_BASE_URL" in problem.message and "Error code" not in problem.message


def test_the_chat_page_names_the_missing_api_and_keeps_the_message(chat_only, db_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import TEST_KEY
    from tests.pages import APP, create, texts

    server, _ = chat_only
    monkeypatch.setenv("PLAYGROUND_API", "conversations")  # forced: no probe, no fallback to Chat Completions
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    app = AppTest.from_file(APP, default_timeout=30).run()
    create(app)
    app.chat_input[0].set_value("hello local model").run()
    assert not app.exception, app.exception
    [error] = texts(app, "error")
    assert "This server has no Conversations API" in error and "OPENAI_BASE_URL" in error
    assert "hello local model" in [m.markdown[0].value for m in app.chat_message]
