"""Turns on a Chat-Completions-only server (Ollama, vLLM, LM Studio, llama.cpp): the history comes
from the log every turn, and nothing is lost or sent twice. Real SDK, real HTTP, the local server in
its `chat` mode; every request is checked against the official spec."""

from __future__ import annotations

import json

import openai
import pytest

from playground import provider, turn
from playground.assistant import AssistantConfig, FunctionTool, Variable
from playground.backend import ProbingBackend, ResponsesBackend
from playground.chat import ChatBackend
from playground.client import ApiKey, make_client
from playground.turn import TextDelta, TurnDone
from tests.conftest import TEST_KEY

WEATHER = FunctionTool(
    name="get_weather",
    description="Weather for a city",
    parameters=json.dumps(
        {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        }
    ),
    strict=True,
)


@pytest.fixture(autouse=True)
def _fresh_ways(monkeypatch):
    monkeypatch.delenv(provider.API_ENV, raising=False)
    provider.forget_ways()
    yield
    provider.forget_ways()


@pytest.fixture
def client(local):
    return make_client(ApiKey(TEST_KEY, "environment"), local.base_url)


@pytest.fixture
def bot(store):
    assistant = store.create_assistant()
    config = AssistantConfig(name="Local", instructions="Be brief.", model="llama3.2:3b", functions=[WEATHER])
    version, _ = store.save_version(assistant.id, config)
    return version


def run(store, backend, thread_id, version, text):
    t = turn.start(store, backend, thread_id, version, text, secrets=(TEST_KEY,))
    events = list(t.events())
    assert isinstance(events[-1], TurnDone)
    return t


def chat_bodies(server):
    return [r["body"] for r in server.requests if r["path"] == "/v1/chat/completions"]


def test_a_three_turn_thread_with_a_function_call_in_the_middle_resends_the_whole_history(store, client, local, bot):
    backend = ChatBackend(client)
    thread = store.create_thread(bot.assistant_id)
    first = run(store, backend, thread.id, bot, "Hello")
    assert first.result.status == "completed" and first.result.text == "Echo: Hello"

    local.script({"text": "", "function_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]})
    second = run(store, backend, thread.id, bot, "Weather in Oslo?")
    assert second.result.status == "requires_action"
    [call] = store.tool_calls(second.run_id)
    answer = turn.answer(store, backend, second.run_id, {call.call_id: ('{"temp": 3}', "hand")}, bot)
    assert isinstance(list(answer.events())[-1], TurnDone) and answer.result.status == "completed"
    assert answer.result.text == 'Echo: The function returned: {"temp": 3}'.removeprefix("Echo: ")

    third = run(store, backend, thread.id, bot, "And tomorrow?")
    assert third.result.text == "Echo: And tomorrow?"

    bodies = chat_bodies(local)
    assert len(bodies) == 4  # one request per turn: no conversation to create, nothing to look up
    assert bodies[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Echo: Hello"},
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.call_id, "content": '{"temp": 3}'},
        {"role": "assistant", "content": 'The function returned: {"temp": 3}'},
        {"role": "user", "content": "And tomorrow?"},
    ]
    assert bodies[-1]["tools"][0]["function"]["name"] == "get_weather"
    assert bodies[-1]["stream_options"] == {"include_usage": True}
    assert store.get_thread(thread.id).api == "chat" and store.get_thread(thread.id).conversation_id is None
    run_row = store.get_run(third.run_id)
    assert run_row.input_tokens and run_row.output_tokens  # the usage chunk was read
    assert json.loads(run_row.request)["messages"][-1] == {"role": "user", "content": "And tomorrow?"}


def test_usage_is_unknown_when_the_server_sends_none(store, client, local, bot):
    local.sends_usage = False  # llama.cpp and some gateways ignore include_usage
    thread = store.create_thread(bot.assistant_id)
    t = run(store, ChatBackend(client), thread.id, bot, "Hi")
    assert t.result.status == "completed" and t.result.usage == {}
    row = store.get_run(t.run_id)
    assert (row.input_tokens, row.output_tokens, row.total_tokens) == (None, None, None)


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ({"status": 500, "times": 3}, "failed", "server"),
        ({"chunks": ["a", "b", "c"], "cut_after": 2}, "incomplete", "cut"),
        ({"chunks": ["a", "b", "c"], "error_event_after": 1}, "incomplete", None),
    ],
)
def test_a_failed_turn_keeps_the_message_and_a_retry_sends_it_once(store, client, local, bot, fault, status, kind):
    backend = ChatBackend(client)
    thread = store.create_thread(bot.assistant_id)
    run(store, backend, thread.id, bot, "first")
    local.script(fault)
    failed = run(store, backend, thread.id, bot, "second")
    assert failed.result.status == status
    if kind:
        assert failed.result.problem.kind == kind
    again = turn.retry(store, backend, failed.user_message_id, bot, secrets=(TEST_KEY,))
    list(again.events())
    assert again.result.status == "completed"
    users = [m.content for m in store.list_messages(thread.id) if m.role == "user"]
    assert users == ["first", "second"]
    # The retry resent the thread from the log: the failed attempt's partial text is not history.
    assert chat_bodies(local)[-1]["messages"][1:] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "second"},
    ]


def test_stop_settles_the_turn_and_the_next_message_does_not_resend_the_stopped_reply(store, client, local, bot):
    backend = ChatBackend(client)
    thread = store.create_thread(bot.assistant_id)
    local.script({"chunks": [f"w{i} " for i in range(50)], "gap": 0.05})
    t = turn.start(store, backend, thread.id, bot, "long story", secrets=(TEST_KEY,))
    for event in t.events():
        if isinstance(event, TextDelta):
            t.cancel()
    assert t.result.status == "cancelled"
    run(store, backend, thread.id, bot, "next")
    assert chat_bodies(local)[-1]["messages"][1:] == [{"role": "user", "content": "next"}]


def test_the_probe_finds_a_chat_only_server_once_and_remembers_it(store, client, local, bot):
    key = ApiKey(TEST_KEY, "environment")
    backend = provider.runner(client, local.base_url, key.fingerprint)
    assert isinstance(backend, ProbingBackend)
    thread = store.create_thread(bot.assistant_id)
    t = run(store, backend, thread.id, bot, "Hi")
    assert t.result.status == "completed" and t.result.text == "Echo: Hi"
    assert [r["path"] for r in local.requests] == ["/v1/conversations", "/v1/chat/completions"]
    assert store.get_thread(thread.id).api == "chat"
    # Remembered for this server and key: the next thread goes straight to Chat Completions.
    assert isinstance(provider.runner(client, local.base_url, key.fingerprint), ChatBackend)
    assert provider.known_way(local.base_url, "another-key") is None


def test_the_probe_on_a_server_with_conversations_uses_that_conversation(store, upstream, bot):
    key = ApiKey(TEST_KEY, "environment")
    client = make_client(key, upstream.base_url)
    backend = provider.runner(client, upstream.base_url, key.fingerprint)
    thread = store.create_thread(bot.assistant_id)
    bot_on_openai = store.save_version(bot.assistant_id, AssistantConfig(name="Local", model="gpt-4.1-mini"))[0]
    t = run(store, backend, thread.id, bot_on_openai, "Hi")
    assert t.result.status == "completed" and t.requests == 2  # the probe was the thread's conversation
    assert store.get_thread(thread.id).api == "conversations"
    assert isinstance(provider.runner(client, upstream.base_url, key.fingerprint), ResponsesBackend)


@pytest.mark.parametrize(("status", "kind"), [(401, "auth"), (503, "server")])
def test_a_probe_that_fails_otherwise_is_said_and_nothing_is_remembered(store, client, local, bot, status, kind):
    local.script({"path": "/conversations", "status": status, "times": 3, "error": {"message": "no"}})
    backend = provider.runner(client, local.base_url, "fp")
    thread = store.create_thread(bot.assistant_id)
    t = run(store, backend, thread.id, bot, "Hi")
    assert t.result.status == "failed" and t.result.problem.kind == kind
    assert provider.known_way(local.base_url, "fp") is None
    assert store.get_thread(thread.id).api is None
    assert chat_bodies(local) == []


def test_hosted_tools_are_refused_before_any_request_on_chat(store, client, local):
    assistant = store.create_assistant()
    config = AssistantConfig(name="Searcher", model="llama3.2:3b")
    config.file_search.enabled = True
    config.file_search.vector_store_ids = ["vs_1"]
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    t = run(store, ChatBackend(client), thread.id, version, "find it")
    assert t.result.status == "failed" and t.result.problem.kind == "way"
    assert "File search runs only on OpenAI's Responses API" in t.result.problem.message
    assert local.requests == []
    assert [m.content for m in store.list_messages(thread.id)] == ["find it"]  # kept, to send again


def test_a_thread_started_on_conversations_is_not_continued_on_a_chat_server(store, client, local, bot):
    thread = store.create_thread(bot.assistant_id)
    store.set_conversation(thread.id, "conv_from_openai")
    store.set_thread_api(thread.id, "conversations")
    t = run(store, ChatBackend(client), thread.id, bot, "Hi")
    assert t.result.problem.kind == "way" and "start a new thread" in t.result.problem.message
    assert local.requests == []


def test_playground_api_forces_a_way_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv(provider.API_ENV, "chat")
    assert provider.known_way("https://api.openai.com/v1", "fp") == "chat"
    monkeypatch.setenv(provider.API_ENV, "assistants")
    with pytest.raises(ValueError, match="takes conversations or chat"):
        provider.known_way(None, "fp")
    monkeypatch.delenv(provider.API_ENV)
    assert provider.known_way(None, "fp") == "conversations"  # OpenAI's own host


def test_chat_models_leave_out_what_cannot_chat():
    ids = ["llama3.2:3b", "nomic-embed-text:latest", "text-embedding-3-small", "whisper-1", "gpt-4o-mini-tts"]
    ids += ["dall-e-3", "omni-moderation-latest", "gpt-4.1-mini", "qwen2.5:7b-instruct"]
    assert provider.chat_models(ids) == ["llama3.2:3b", "gpt-4.1-mini", "qwen2.5:7b-instruct"]


def test_reasoning_effort_is_not_sent_to_a_model_known_not_to_take_it(store, client, local):
    assistant = store.create_assistant()
    for model, sent in (("gpt-4.1-mini", False), ("o3", True), ("llama3.2:3b", True)):
        version, _ = store.save_version(
            assistant.id, AssistantConfig(name="R", model=model, reasoning_effort="high", instructions=model)
        )
        thread = store.create_thread(assistant.id)
        t = run(store, ChatBackend(client), thread.id, version, "think")
        assert t.result.status == "completed", t.result.problem
        assert ("reasoning_effort" in chat_bodies(local)[-1]) is sent


def test_a_server_refusal_of_reasoning_effort_names_the_field(store, client, local):
    # A model the app cannot know gets the setting; a server that refuses it is said with the field.
    local.script(
        {"status": 400, "error": {"message": "reasoning_effort is not supported", "param": "reasoning_effort"}}
    )
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, AssistantConfig(name="R", model="mistral:7b", reasoning_effort="low"))
    thread = store.create_thread(assistant.id)
    t = run(store, ChatBackend(client), thread.id, version, "think")
    assert t.result.status == "failed" and "reasoning_effort" in t.result.problem.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gpt-4.1", messages=[{"role": "user", "content": "x"}], reasoning_effort="low"
        )


def test_the_trace_shows_a_chat_turn_as_its_steps(store, client, local, bot):
    from playground import trace

    thread = store.create_thread(bot.assistant_id)
    local.script({"text": "Let me check.", "function_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]})
    t = run(store, ChatBackend(client), thread.id, bot, "Weather?")
    row = store.get_run(t.run_id)
    steps = trace.steps(row, store.tool_calls(t.run_id))
    assert [s["step"] for s in steps] == ["message", "function call: get_weather"]
    assert steps[0]["text"] == "Let me check." and json.loads(steps[1]["arguments"]) == {"city": "Oslo"}
    assert trace.summary(row)["input tokens"] == row.input_tokens > 0


def test_a_thread_too_long_for_the_context_leaves_out_its_oldest_turns_and_says_so(store, client, local, bot):
    backend = ChatBackend(client)
    thread = store.create_thread(bot.assistant_id)
    for n in range(6):
        run(store, backend, thread.id, bot, f"question {n} " + "x" * 200)
    full = len(json.dumps(chat_bodies(local)[-1]["messages"]))
    local.context_chars = full  # the next turn, one exchange longer, no longer fits
    t = run(store, backend, thread.id, bot, "the newest question")
    assert t.result.status == "completed" and t.result.text == "Echo: the newest question"
    refused, sent = chat_bodies(local)[-2:]
    assert len(json.dumps(sent["messages"])) <= full < len(json.dumps(refused["messages"]))
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}  # the instructions always go
    assert sent["messages"][-1] == {"role": "user", "content": "the newest question"}
    row = store.get_run(t.run_id)
    assert row.dropped_turns and row.dropped_turns >= 1
    users_sent = [m for m in sent["messages"] if m["role"] == "user"]
    assert len(users_sent) == 7 - row.dropped_turns
    assert json.loads(row.request) == sent  # the trace shows the request as it was finally sent
    from playground import trace

    assert trace.summary(row)["earlier turns not sent"] == row.dropped_turns


def test_a_message_that_alone_does_not_fit_is_said_not_trimmed_forever(store, client, local, bot):
    local.context_chars = 50
    thread = store.create_thread(bot.assistant_id)
    t = run(store, ChatBackend(client), thread.id, bot, "y" * 500)
    assert t.result.status == "failed" and "maximum context length" in t.result.problem.message
    assert len(chat_bodies(local)) == 1


def test_instructions_are_developer_for_openai_reasoning_models_and_system_elsewhere():
    def first(base_url, model):
        backend = ChatBackend(make_client(ApiKey(TEST_KEY, "environment"), base_url))
        body = backend.request(AssistantConfig(instructions="Be brief.", model=model), "", text="hi")
        return body["messages"][0]["role"]

    assert first("https://api.openai.com/v1", "o3") == "developer"
    assert first("https://api.openai.com/v1", "gpt-4.1-mini") == "system"
    assert first("http://localhost:11434/v1", "o3") == "system"  # a local model named like one


def test_chat_turns_send_the_instructions_and_history_with_variables_filled(store, client, local):
    assistant = store.create_assistant()
    config = AssistantConfig(
        instructions="You help in {{ city }}.", model="llama3.2:3b", variables=[Variable("city", "Lyon")]
    )
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    backend = ChatBackend(client)
    run(store, backend, thread.id, version, "Hi from {{city}}")
    run(store, backend, thread.id, version, "Bye {{unknown}}")
    assert chat_bodies(local)[-1]["messages"] == [
        {"role": "system", "content": "You help in Lyon."},
        {"role": "user", "content": "Hi from Lyon"},
        {"role": "assistant", "content": "Echo: Hi from Lyon"},
        {"role": "user", "content": "Bye {{unknown}}"},
    ]
