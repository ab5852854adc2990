"""Turns through the real SDK over loopback: streaming, the log, request counts, every failure class."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from playground import tools, turn
from playground.assistant import AssistantConfig, Variable
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.turn import TextDelta, ToolCall, TurnDone
from tests.conftest import TEST_KEY


def run_turn(store, backend, thread, version, text="Hello there"):
    t = turn.start(store, backend, thread.id, version, text, secrets=(TEST_KEY,))
    events = list(t.events())
    assert isinstance(events[-1], TurnDone)
    return t, events


def responses_calls(upstream):
    return [r for r in upstream.requests if r["method"] == "POST" and r["path"].endswith("/responses")]


def test_a_turn_streams_text_and_logs_everything(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["Hi", " there", "!"]})
    t, events = run_turn(store, backend, thread, version)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hi", " there", "!"]
    done = t.result
    assert done.status == "completed" and done.text == "Hi there!" and done.problem is None
    assert done.usage["total_tokens"] == done.usage["input_tokens"] + done.usage["output_tokens"] > 0

    messages = store.list_messages(thread.id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Hello there", "complete"),
        ("assistant", "Hi there!", "complete"),
    ]
    assert messages[1].version_id == version.id and messages[1].version_number == 1
    assert messages[1].model == "gpt-4.1-mini"
    run = store.get_run(done.run_id)
    assert run.status == "completed" and run.version_id == version.id
    assert run.request_id and run.request_id.startswith("req_")
    assert run.response_id and run.last_item_id
    assert run.ttft_ms is not None and run.latency_ms >= run.ttft_ms
    assert run.input_tokens and run.output_tokens and run.total_tokens
    assert store.get_thread(thread.id).conversation_id.startswith("conv_")
    assert json.loads(run.request)["conversation"] == store.get_thread(thread.id).conversation_id


def test_request_count_is_two_on_the_first_turn_then_one(store, backend, upstream, thread, version):
    t1, _ = run_turn(store, backend, thread, version, "first")
    first = len(upstream.requests)
    t2, _ = run_turn(store, backend, store.get_thread(thread.id), version, "second")
    assert (first, len(upstream.requests) - first) == (2, 1)
    assert (t1.requests, t2.requests) == (2, 1)
    # The conversation upstream holds both turns, in order, once each.
    conversation = store.get_thread(thread.id).conversation_id
    items = backend.recent_items(conversation, limit=20)[::-1]
    texts = [item.content[0].text for item in items]
    assert texts == ["first", "Echo: first", "second", "Echo: second"]


def test_the_user_message_and_run_are_logged_before_the_request(store, backend, upstream, thread, version):
    t = turn.start(store, backend, thread.id, version, "logged first")
    assert upstream.requests == []
    [m] = store.list_messages(thread.id)
    assert (m.content, m.status, m.run_status) == ("logged first", "incomplete", "in_progress")
    t.close()  # never iterated: the turn is settled as cancelled
    assert store.get_run(t.run_id).status == "cancelled"


def test_empty_text_is_refused_before_anything_is_written(store, backend, thread, version):
    with pytest.raises(ValueError, match="Type a message"):
        turn.start(store, backend, thread.id, version, "   ")
    assert store.list_messages(thread.id) == []


# -- the request body that reaches the server, field by field ---------------------------------

FIELD_CASES = {
    "instructions": (AssistantConfig(instructions="Speak like a pirate."), {"instructions": "Speak like a pirate."}),
    "model": (AssistantConfig(model="gpt-5"), {"model": "gpt-5"}),
    "temperature": (AssistantConfig(temperature=0.3), {"temperature": 0.3}),
    "top_p": (AssistantConfig(top_p=0.5), {"top_p": 0.5}),
    "max_output_tokens": (AssistantConfig(max_output_tokens=300), {"max_output_tokens": 300}),
    "metadata": (AssistantConfig(metadata={"team": "qa"}), {"metadata": {"team": "qa"}}),
    "reasoning": (AssistantConfig(model="o3", reasoning_effort="low"), {"reasoning": {"effort": "low"}}),
    "text_format_json_object": (
        AssistantConfig(instructions="Reply in JSON.", response_format={"type": "json_object"}),
        {"text": {"format": {"type": "json_object"}}},
    ),
    "text_format_json_schema": (
        AssistantConfig(
            response_format={
                "type": "json_schema",
                "name": "answer",
                "schema": '{"type":"object","properties":{"a":{"type":"string"}},'
                '"required":["a"],"additionalProperties":false}',
                "strict": True,
            }
        ),
        {
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "answer",
                    "strict": True,
                    "schema": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "required": ["a"],
                        "additionalProperties": False,
                    },
                }
            }
        },
    ),
    "function_tool_is_flat": (
        AssistantConfig(
            functions=[{"name": "lookup", "description": "Find it", "parameters": '{"type":"object"}', "strict": False}]
        ),
        {
            "tools": [
                {
                    "type": "function",
                    "name": "lookup",
                    "description": "Find it",
                    "parameters": {"type": "object"},
                    "strict": False,
                }
            ]
        },
    ),
    "file_search": (
        AssistantConfig(
            file_search={"enabled": True, "vector_store_ids": ["vs_1"], "max_num_results": 5, "ranker": "auto"}
        ),
        {
            "tools": [
                {
                    "type": "file_search",
                    "vector_store_ids": ["vs_1"],
                    "max_num_results": 5,
                    "ranking_options": {"ranker": "auto"},
                }
            ]
        },
    ),
    "code_interpreter": (
        AssistantConfig(code_interpreter={"enabled": True, "file_ids": ["file_1"]}),
        {"tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": ["file_1"]}}]},
    ),
}


@pytest.mark.parametrize("case", FIELD_CASES, ids=list(FIELD_CASES))
def test_each_config_field_reaches_the_server(case, store, backend, upstream):
    config, expected = FIELD_CASES[case]
    config = AssistantConfig.from_dict(config.to_dict() if isinstance(config, AssistantConfig) else config)
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    t, _ = run_turn(store, backend, thread, version)
    assert t.result.status == "completed", t.result.problem
    [call] = responses_calls(upstream)
    for field, value in expected.items():
        assert call["body"][field] == value, field
    assert call["body"]["input"][0]["content"][0]["text"] == "Hello there"


def test_auto_response_format_and_unset_fields_are_left_out(store, backend, upstream, thread):
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, AssistantConfig(temperature=None, top_p=None))
    thread = store.create_thread(assistant.id)
    run_turn(store, backend, thread, version)
    body = responses_calls(upstream)[0]["body"]
    for absent in ("text", "reasoning", "tools", "max_output_tokens", "metadata", "temperature", "top_p"):
        assert absent not in body


def test_declared_variables_are_filled_in_what_is_sent_and_logged(store, backend, upstream):
    config = AssistantConfig(
        instructions='Answer about {{city}} in {{ unit }}. Keep {{other}}, {{ item.x }} and {"a": 1}.',
        variables=[Variable("city", "Paris"), Variable("unit", "C")],
    )
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    t, _ = run_turn(store, backend, thread, version, "Weather in {{ city }}? {{other}}")
    assert t.result.status == "completed", t.result.problem
    [call] = responses_calls(upstream)
    sent = 'Answer about Paris in C. Keep {{other}}, {{ item.x }} and {"a": 1}.'
    assert call["body"]["instructions"] == sent
    assert call["body"]["input"][0]["content"][0]["text"] == "Weather in Paris? {{other}}"
    # The log keeps what was sent (docs/decisions.md): the message, and the request in the trace.
    assert store.list_messages(thread.id)[0].content == "Weather in Paris? {{other}}"
    assert json.loads(store.get_run(t.run_id).request)["instructions"] == sent
    assert version.config.instructions.startswith("Answer about {{city}}")  # the version keeps its template

    # A test case's values take the defaults' place, in the instructions and the input alike.
    case = turn.start(store, backend, thread.id, version, "In {{city}}?", variables={"city": "Oslo", "x": "1"})
    list(case.events())
    last = responses_calls(upstream)[-1]["body"]
    assert last["instructions"].startswith("Answer about Oslo in C.")
    assert last["input"][-1]["content"][0]["text"] == "In Oslo?"


def test_a_message_that_fills_to_nothing_is_refused_before_anything_is_written(store, backend):
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, AssistantConfig(variables=[Variable("topic", "")]))
    thread = store.create_thread(assistant.id)
    with pytest.raises(ValueError, match="empty once its variables are filled in"):
        turn.start(store, backend, thread.id, version, " {{topic}} ")
    assert store.list_messages(thread.id) == []


# -- failures: one sentence each, nothing lost, nothing duplicated ----------------------------


def err(status, message="nope", type_="invalid_request_error", param=None, code=None, times=1):
    return {
        "status": status,
        "times": times,
        "error": {"message": message, "type": type_, "param": param, "code": code},
    }


def test_connect_failure_is_a_connection_message(store, thread, version):
    dead = ResponsesBackend(
        make_client(ApiKey(TEST_KEY, "environment"), "http://127.0.0.1:9/v1").with_options(max_retries=0)
    )
    t, _ = run_turn(store, dead, thread, version)
    assert t.result.problem.kind == "connection"
    assert t.result.problem.message.startswith("Could not reach the API")


def test_error_text_is_redacted(store, backend, upstream, thread, version):
    upstream.script(err(400, f"Key {TEST_KEY} is not allowed here"))
    t, _ = run_turn(store, backend, thread, version)
    assert TEST_KEY not in t.result.problem.message and "[redacted]" in t.result.problem.message
    assert TEST_KEY.encode() not in store.path.read_bytes()


# -- retry and stop --------------------------------------------------------------------------


def test_retry_reuses_the_message_and_never_duplicates_it(store, backend, upstream, thread, version):
    run_turn(store, backend, thread, version, "one")
    upstream.script(err(500, times=3))
    failed, _ = run_turn(store, backend, store.get_thread(thread.id), version, "two")
    retried = turn.retry(store, backend, failed.user_message_id, version)
    list(retried.events())
    assert retried.result.status == "completed"
    users = [m.content for m in store.list_messages(thread.id) if m.role == "user"]
    assert users == ["one", "two"]
    items = backend.recent_items(store.get_thread(thread.id).conversation_id, limit=20)[::-1]
    assert [i.content[0].text for i in items] == ["one", "Echo: one", "two", "Echo: two"]


def test_retry_after_upstream_took_the_message_removes_the_leftovers(store, backend, upstream, thread, version):
    """The cut attempt reached upstream; if the server kept its items, the retry removes them first."""
    run_turn(store, backend, thread, version, "one")
    conversation = store.get_thread(thread.id).conversation_id
    upstream.script({"chunks": ["a", "b", "c"], "cut_after": 1})
    failed, _ = run_turn(store, backend, store.get_thread(thread.id), version, "two")
    # Simulate a server that appended the attempt's input before failing (some do).
    backend.client.conversations.items.create(
        conversation, items=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "two"}]}]
    )
    retried = turn.retry(store, backend, failed.user_message_id, version)
    list(retried.events())
    items = backend.recent_items(conversation, limit=20)[::-1]
    assert [i.content[0].text for i in items] == ["one", "Echo: one", "two", "Echo: two"]


def test_retry_refuses_an_answered_message(store, backend, upstream, thread, version):
    t, _ = run_turn(store, backend, thread, version)
    with pytest.raises(ValueError):
        turn.retry(store, backend, t.user_message_id, version)
    with pytest.raises(LookupError):
        turn.retry(store, backend, 999_999, version)


def test_stop_keeps_the_partial_reply(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["one", " two", " three", " four"], "gap": 0.2})
    t = turn.start(store, backend, thread.id, version, "count")
    seen = []
    for event in t.events():
        if isinstance(event, TextDelta):
            seen.append(event.text)
            if len(seen) == 2:
                t.cancel()
    assert t.result.status == "cancelled" and t.result.text == "one two"
    reply = store.list_messages(thread.id)[-1]
    assert (reply.content, reply.status) == ("one two", "incomplete")


def test_stop_works_while_the_model_has_not_sent_a_token(store, backend, upstream, thread, version):
    """A reasoning model can think for a minute before its first token: Stop must not wait for it."""
    upstream.script({"chunks": ["too", " late"], "ttft": 30})
    t = turn.start(store, backend, thread.id, version, "think hard")
    threading.Timer(0.5, t.cancel).start()
    began = time.monotonic()
    events = list(t.events())
    assert time.monotonic() - began < 10  # not the 30 s the first token would have taken
    assert [type(e).__name__ for e in events] == ["TurnDone"]
    assert t.result.status == "cancelled" and t.result.text == ""
    run = store.get_run(t.run_id)
    assert (run.status, run.problem) == ("cancelled", "cancelled")
    [message] = store.list_messages(thread.id)
    assert message.status == "failed"  # the question stays, ready to be sent again


def test_a_heartbeat_ticks_while_nothing_arrives(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["late"], "ttft": 0.6})
    t = turn.start(store, backend, thread.id, version, "hi")
    events = list(t.events(heartbeat=0.05))
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert first_text > 0 and all(isinstance(e, turn.Waiting) for e in events[:first_text])
    assert t.result.status == "completed" and t.result.text == "late"
    assert "".join(turn.start(store, backend, thread.id, version, "again").text_deltas(heartbeat=10)) == "Echo: again"


def test_only_the_last_message_can_be_retried(store, backend, upstream, thread, version):
    upstream.script(err(500, times=3))
    failed, _ = run_turn(store, backend, thread, version, "first")
    run_turn(store, backend, store.get_thread(thread.id), version, "second")
    with pytest.raises(ValueError, match="last message"):
        turn.retry(store, backend, failed.user_message_id, version)


def test_the_kind_of_failure_is_kept_on_the_run(store, backend, upstream, thread, version):
    store.set_conversation(thread.id, "conv_does_not_exist")
    t, _ = run_turn(store, backend, store.get_thread(thread.id), version)
    assert store.get_run(t.run_id).problem == "conversation_gone"
    assert store.list_messages(thread.id)[-1].problem == "conversation_gone"


def test_a_consumer_that_walks_away_still_settles_the_turn(store, backend, upstream, thread, version):
    """What a Streamlit rerun does mid-stream: the generator is closed after a few chunks."""
    upstream.script({"chunks": ["a", "b", "c", "d"], "gap": 0.05})
    t = turn.start(store, backend, thread.id, version, "go")
    deltas = t.text_deltas()
    assert next(deltas) == "a"
    t.close()
    assert store.get_run(t.run_id).status == "cancelled"
    assert store.list_messages(thread.id)[-1].content == "a"


WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],'
    '"additionalProperties":false}',
    "strict": True,
}
TIME = {
    "name": "get_current_time",
    "description": "Current time",
    "parameters": '{"type":"object","properties":{"timezone":{"type":"string"}},"required":["timezone"],'
    '"additionalProperties":false}',
    "strict": True,
}


@pytest.fixture
def tool_version(store):
    assistant = store.create_assistant()
    v, _ = store.save_version(assistant.id, AssistantConfig.from_dict({"name": "Tools", "functions": [WEATHER, TIME]}))
    return v


def test_function_calls_wait_for_outputs_and_survive_a_reload(store, backend, upstream, tool_version):
    thread = store.create_thread(tool_version.assistant_id)
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": '{"city": "Paris"}'}]})
    t, events = run_turn(store, backend, thread, tool_version)
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    assert t.result.status == "requires_action"
    # What a reload finds: the run waits, its call is pending with no argument problems.
    assert store.pending_run(thread.id) == t.run_id
    [row] = store.tool_calls(t.run_id)
    assert (row.name, row.status, row.problems) == ("get_weather", "pending", [])


def test_parallel_calls_answered_by_hand_and_by_handler_continue_the_turn(store, backend, upstream, tool_version):
    thread = store.create_thread(tool_version.assistant_id)
    upstream.script(
        {
            "function_calls": [
                {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                {"name": "get_current_time", "arguments": '{"timezone": "UTC"}'},
            ]
        }
    )
    t, _ = run_turn(store, backend, thread, tool_version, "Weather and time?")
    weather, clock = store.tool_calls(t.run_id)
    output, ok = tools.run_handler(clock.name, clock.arguments)
    assert ok and json.loads(output)["timezone"] == "UTC"
    outputs = {weather.call_id: ('{"temp_c": 4}', "typed"), clock.call_id: (output, "handler")}
    follow = turn.answer(store, backend, t.run_id, outputs, tool_version)
    list(follow.events())
    assert follow.result.status == "completed" and follow.result.text.startswith("The function returned:")
    assert '{"temp_c": 4}' in follow.result.text
    assert store.pending_run(thread.id) is None
    assert [(c.status, c.source) for c in store.tool_calls(t.run_id)] == [
        ("answered", "typed"),
        ("answered", "handler"),
    ]
    # The continuation sent exactly the two outputs, against the same conversation.
    body = responses_calls(upstream)[-1]["body"]
    assert [(i["type"], i["call_id"]) for i in body["input"]] == [
        ("function_call_output", weather.call_id),
        ("function_call_output", clock.call_id),
    ]
    assert body["conversation"] == store.get_thread(thread.id).conversation_id
    users = [m for m in store.list_messages(thread.id) if m.role == "user"]
    assert [(m.content, m.status) for m in users] == [("Weather and time?", "complete")]


def test_a_partial_answer_is_refused(store, backend, upstream, tool_version):
    thread = store.create_thread(tool_version.assistant_id)
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": "{}"}, {"name": "get_weather"}]})
    t, _ = run_turn(store, backend, thread, tool_version)
    first = store.tool_calls(t.run_id)[0]
    with pytest.raises(ValueError, match="missing get_weather"):
        turn.answer(store, backend, t.run_id, {first.call_id: ("sunny", "typed")}, tool_version)
    with pytest.raises(LookupError):
        turn.answer(store, backend, 999_999, {}, tool_version)


def test_arguments_that_break_the_schema_are_shown_not_hidden(store, backend, upstream, tool_version):
    thread = store.create_thread(tool_version.assistant_id)
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": '{"town": 3}'}]})
    t, _ = run_turn(store, backend, thread, tool_version)
    [row] = store.tool_calls(t.run_id)
    assert row.problems and any("city" in p for p in row.problems)


def test_a_failed_continuation_keeps_the_outputs_to_send_again(store, backend, upstream, tool_version):
    thread = store.create_thread(tool_version.assistant_id)
    upstream.script({"function_calls": [{"name": "get_weather", "arguments": '{"city": "Rome"}'}]})
    t, _ = run_turn(store, backend, thread, tool_version)
    [call] = store.tool_calls(t.run_id)
    upstream.script(err(500, times=3))
    failed = turn.answer(store, backend, t.run_id, {call.call_id: ("sunny", "typed")}, tool_version)
    list(failed.events())
    assert failed.result.status == "failed"
    assert store.pending_run(thread.id) == t.run_id
    [kept] = store.tool_calls(t.run_id)
    assert (kept.output, kept.status) == ("sunny", "pending")
    again = turn.answer(store, backend, t.run_id, {call.call_id: (kept.output, "typed")}, tool_version)
    list(again.events())
    assert again.result.status == "completed"


def test_the_key_never_reaches_the_log_output(store, backend, upstream, thread, version, caplog):
    """Every logger at DEBUG (the SDK's and httpx2's included) through a good turn and a failed one."""
    caplog.set_level(logging.DEBUG)
    run_turn(store, backend, thread, version, "hello")
    upstream.script(err(401, f"Incorrect API key provided: {TEST_KEY}", code="invalid_api_key"))
    t, _ = run_turn(store, backend, store.get_thread(thread.id), version, "again")
    assert t.result.problem.kind == "auth"
    assert caplog.records, "the SDK logged nothing at DEBUG: this test would prove nothing"
    assert TEST_KEY not in caplog.text
    assert TEST_KEY.encode() not in store.path.read_bytes()


def test_settled_waits_for_a_turn_another_run_is_closing(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["slow"], "ttft": 30})
    t = turn.start(store, backend, thread.id, version, "hi")
    events = t.events()
    threading.Thread(target=lambda: list(events), daemon=True).start()
    time.sleep(0.3)
    assert turn.settled(store, thread.id, timeout=0) is False  # streaming: still in progress
    threading.Timer(0.3, t.cancel).start()
    assert turn.settled(store, thread.id, timeout=10) is True
    assert store.get_run(t.run_id).status == "cancelled"
