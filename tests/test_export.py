"""Exports: threads as JSONL, CSV and Markdown; versions as JSON; a config as a runnable script."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

from playground import export, request, turn, usage
from playground.assistant import AssistantConfig, FunctionTool, ResponseFormat
from playground.turn import TurnDone

TRICKY = (
    'Sure, here\'s a "quoted" list, with commas:\n'
    "\n"
    "## Not a heading of the export\n"
    "- one, two\n"
    "```python\nprint('unclosed fence')\n"
    "<script>alert(1)</script> & <b>bold</b>\n"
    "**User** · 2020-01-01 00:00 UTC\n"
    "Ünïcödé ✓ 日本語\r\nlast line"
)

WEATHER = FunctionTool(
    name="get_weather",
    description="Current weather for a city.",
    parameters=json.dumps(
        {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": ["string", "null"], "enum": ["c", "f", None]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        }
    ),
    strict=True,
)

ANSWER_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "sure": {"type": "boolean"}},
        "required": ["answer", "sure"],
        "additionalProperties": False,
    }
)


def assert_fine_tunable(line: dict) -> None:
    """A line OpenAI's chat fine-tuning accepts: only its keys; a system message only first; every
    function call answered by a `tool` message right after it; no two assistant messages in a row;
    the last message a model's reply (text, no calls)."""
    assert set(line) <= {"messages", "tools", "parallel_tool_calls"}, set(line)
    messages = line["messages"]
    assert all(m["role"] != "system" for m in messages[1:])
    waiting: set[str] = set()
    for n, m in enumerate(messages):
        if waiting:
            assert m["role"] == "tool" and m["tool_call_id"] in waiting, (n, m)
            waiting.discard(m["tool_call_id"])
            assert isinstance(m["content"], str)
            continue
        assert m["role"] != "tool", f"a tool message answers no call: {m}"
        if m["role"] == "assistant":
            assert n == 0 or messages[n - 1]["role"] != "assistant", f"two assistant messages in a row at {n}"
            assert m.get("content") or m.get("tool_calls"), m
            for call in m.get("tool_calls", []):
                assert call["type"] == "function" and set(call) == {"id", "type", "function"}
                assert set(call["function"]) == {"name", "arguments"}
                json.loads(call["function"]["arguments"])  # a JSON string, as the format has it
                waiting.add(call["id"])
            assert set(m) <= {"role", "content", "tool_calls", "weight"}
    assert not waiting, f"calls never answered: {waiting}"
    assert messages[-1]["role"] == "assistant" and "tool_calls" not in messages[-1]
    assert messages[-1].get("weight", 1) == 1, "a line ends with a reply to learn"
    for tool in line.get("tools", []):
        assert tool["type"] == "function" and isinstance(tool["function"]["parameters"], dict)


@pytest.fixture
def conversation(store, version):
    """A thread: a plain exchange, a tricky reply, a turn with only tool calls, then a cut-off reply."""
    thread = store.create_thread(version.assistant_id)
    ids = {}
    ids["q1"] = store.add_message(thread.id, "user", "Hi there", version_id=version.id)
    ids["a1"] = store.add_message(thread.id, "assistant", "Hello!", version_id=version.id)
    config2 = AssistantConfig(name="Tester", instructions="Be very brief.", model="gpt-4.1")
    v2, _ = store.save_version(version.assistant_id, config2)
    ids["q2"] = store.add_message(thread.id, "user", "Format this, please", version_id=v2.id)
    ids["a2"] = store.add_message(thread.id, "assistant", TRICKY, version_id=v2.id)
    # A turn that ended in function calls leaves no assistant message, only a run.
    run = store.start_run(thread.id, v2.id, ids["q2"], "gpt-4.1")
    store.add_tool_calls(run, thread.id, [("call_1", "get_weather", '{"city": "Paris"}', [])])
    # A cut-off turn: the app marks the question failed (retryable) and keeps the partial reply.
    ids["q3"] = store.add_message(thread.id, "user", "Tell me a long story", version_id=v2.id, status="failed")
    ids["a3"] = store.add_message(thread.id, "assistant", "Once upon a", version_id=v2.id, status="incomplete")
    return store.get_thread(thread.id), version, v2, ids


# -- JSONL -----------------------------------------------------------------------------------------


def test_jsonl_is_chat_format_with_each_versions_instructions(store, conversation):
    thread, v1, v2, _ = conversation
    other = store.create_thread(v1.assistant_id)
    store.add_message(other.id, "user", "Only a question", version_id=v2.id)

    text = export.conversation_jsonl(store, [thread.id, other.id])
    # A thread without a completed exchange is no example: it is left out. The instructions changed
    # within the thread (v1, then v2): one line per version, each under its own system message.
    assert text.endswith("\n") and text.count("\n") == 2
    first, second = (json.loads(line) for line in text.splitlines())
    assert list(first) == list(second) == ["messages"]  # nothing a fine-tuning upload would refuse
    assert first["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!"},
    ]
    assert second["messages"] == [
        {"role": "system", "content": "Be very brief."},  # v2 wrote this line's reply
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello!", "weight": 0},  # v1's: context here, learned in line 1
        {"role": "user", "content": "Format this, please"},
        {"role": "assistant", "content": TRICKY},
    ]
    assert "Once upon a" not in text and "Tell me a long story" not in text  # incomplete excluded
    assert "get_weather" not in text  # a call the model never got an output for is no example
    assert "日本語" in text  # UTF-8 as is, not \\u escapes
    for line in (first, second):
        assert_fine_tunable(line)


def test_versions_with_the_same_setup_share_a_line(store, version):
    thread = store.create_thread(version.assistant_id)
    store.add_message(thread.id, "user", "Q1", version_id=version.id)
    store.add_message(thread.id, "assistant", "A1", version_id=version.id)
    config = AssistantConfig(name="Tester", instructions="Be brief.", model="gpt-4.1")  # only the model changed
    same, _ = store.save_version(version.assistant_id, config)
    store.add_message(thread.id, "user", "Q2", version_id=same.id)
    store.add_message(thread.id, "assistant", "A2", version_id=same.id)
    [line] = [json.loads(x) for x in export.conversation_jsonl(store, [thread.id], metadata=True).splitlines()]
    assert [m.get("weight") for m in line["messages"]] == [None] * 5  # both replies learned, once
    assert line["metadata"]["versions"] == [1, 2]


def test_jsonl_metadata_only_when_asked(store, conversation):
    thread, *_ = conversation
    plain = [json.loads(x) for x in export.conversation_jsonl(store, [thread.id]).splitlines()]
    assert all("metadata" not in line for line in plain)
    first, second = (json.loads(x) for x in export.conversation_jsonl(store, [thread.id], metadata=True).splitlines())
    assert [first["messages"], second["messages"]] == [line["messages"] for line in plain]  # only a key added
    created = [m.created_at for m in store.list_messages(thread.id)]
    assert first["metadata"] == {
        "thread_id": thread.id,
        "title": "Hi there",
        "assistant": "Tester",
        "versions": [1],
        "model": "gpt-4.1-mini",
        "created_at": export._iso(created[1]),  # the line's last reply
        "example": 1,
    }
    assert second["metadata"] == first["metadata"] | {
        "versions": [2],
        "model": "gpt-4.1",
        "created_at": export._iso(created[3]),
        "example": 2,
    }


def _turn(store, backend, thread_id, version, text):
    t = turn.start(store, backend, thread_id, version, text)
    assert isinstance(list(t.events())[-1], TurnDone)
    return t


def _answer(store, backend, run_id, outputs, version):
    t = turn.answer(store, backend, run_id, {call: (output, "typed") for call, output in outputs.items()}, version)
    list(t.events())
    assert t.result.status == "completed"
    return t


@pytest.fixture
def tool_thread(store, backend, upstream):
    """Through the engine and the local server: a plain exchange; on v1, a turn whose model writes a
    line, calls get_weather twice (answered), then replies; on v2 (new instructions), a turn of only a
    call, answered, then the reply. v1 and v2 also have the code interpreter (a hosted tool)."""
    assistant = store.create_assistant()
    config = AssistantConfig(name="Forecaster", instructions="Use the tool.", functions=[WEATHER])
    config.code_interpreter.enabled = True
    v1, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    turns = {"hello": _turn(store, backend, thread.id, v1, "Hello")}
    upstream.script(
        {
            "text": "Let me check.",
            "function_calls": [
                {"name": "get_weather", "arguments": '{"city": "Oslo", "unit": "c"}'},
                {"name": "get_weather", "arguments": '{"city": "Paris", "unit": null}'},
            ],
        }
    )
    turns["asked"] = _turn(store, backend, thread.id, v1, "Weather in Oslo and Paris?")
    assert turns["asked"].result.status == "requires_action"
    oslo, paris = store.tool_calls(turns["asked"].run_id)
    outputs = {oslo.call_id: '{"temp_c": 4}', paris.call_id: '{"temp_c": 11}'}
    turns["answered"] = _answer(store, backend, turns["asked"].run_id, outputs, v1)
    config.instructions = "Use the tool; answer in one line."
    v2, _ = store.save_version(assistant.id, config)
    upstream.script(
        {"text": "", "function_calls": [{"name": "get_weather", "arguments": '{"city": "Rome", "unit": "c"}'}]}
    )
    turns["rome"] = _turn(store, backend, thread.id, v2, "And Rome?")
    [rome] = store.tool_calls(turns["rome"].run_id)
    turns["rome answered"] = _answer(store, backend, turns["rome"].run_id, {rome.call_id: '{"temp_c": 20}'}, v2)
    return thread, v1, v2, turns, (oslo, paris, rome)


def test_jsonl_carries_function_calls_and_outputs_in_the_fine_tuning_format(store, tool_thread):
    thread, _, v2, turns, (oslo, paris, rome) = tool_thread
    first, second = (json.loads(x) for x in export.conversation_jsonl(store, [thread.id]).splitlines())
    for line in (first, second):
        assert_fine_tunable(line)
        assert list(line) == ["messages", "tools"]
        assert line["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather for a city.",
                    "parameters": json.loads(WEATHER.parameters),
                    "strict": True,
                },
            }
        ]

    def call(c):
        return {"id": c.call_id, "type": "function", "function": {"name": "get_weather", "arguments": c.arguments}}

    v1_turns = [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Echo: Hello"},
        {"role": "user", "content": "Weather in Oslo and Paris?"},
        # The text the model wrote before calling, with the calls, in one message, as Chat Completions has it.
        {"role": "assistant", "content": "Let me check.", "tool_calls": [call(oslo), call(paris)]},
        {"role": "tool", "tool_call_id": oslo.call_id, "content": '{"temp_c": 4}'},
        {"role": "tool", "tool_call_id": paris.call_id, "content": '{"temp_c": 11}'},
        {"role": "assistant", "content": turns["answered"].result.text},
    ]
    assert first["messages"] == [{"role": "system", "content": "Use the tool."}, *v1_turns]
    # v2's line: its own instructions, v1's outputs as context (weight 0), then v2's turn, learned.
    assert second["messages"] == [
        {"role": "system", "content": "Use the tool; answer in one line."},
        *({**m, "weight": 0} if m["role"] == "assistant" else m for m in v1_turns),
        {"role": "user", "content": "And Rome?"},
        {"role": "assistant", "tool_calls": [call(rome)]},  # only calls: no content key
        {"role": "tool", "tool_call_id": rome.call_id, "content": '{"temp_c": 20}'},
        {"role": "assistant", "content": turns["rome answered"].result.text},
    ]

    # With metadata: which versions, and the hosted tool whose calls the format cannot carry.
    meta = [
        json.loads(x)["metadata"] for x in export.conversation_jsonl(store, [thread.id], metadata=True).splitlines()
    ]
    assert [(m["versions"], m["example"], m["hosted_tools"]) for m in meta] == [
        ([1], 1, ["code_interpreter"]),
        ([2], 2, ["code_interpreter"]),
    ]
    assert meta[1]["model"] == v2.config.model and "placed" not in meta[1]


def test_jsonl_leaves_out_calls_the_model_never_got_outputs_for(store, backend, upstream, version):
    thread = store.create_thread(version.assistant_id)
    _turn(store, backend, thread.id, version, "Hello")
    upstream.script({"text": "Checking.", "function_calls": [{"name": "get_weather", "arguments": "{}"}]})
    pending = _turn(store, backend, thread.id, version, "Weather?")
    [call] = store.tool_calls(pending.run_id)
    store.set_tool_outputs(pending.run_id, {call.call_id: ("sunny", "typed")}, answered=False)  # never sent
    [line] = [json.loads(x) for x in export.conversation_jsonl(store, [thread.id]).splitlines()]
    assert_fine_tunable(line)
    # The calls wait for outputs: the line ends with the last reply before them.
    assert [m["role"] for m in line["messages"]] == ["system", "user", "assistant"] and list(line) == ["messages"]
    # Had the thread gone on, the text before the calls is context (weight 0), the calls left out.
    store.add_message(thread.id, "user", "Never mind. Bye!", version_id=version.id)
    store.add_message(thread.id, "assistant", "Echo: Never mind. Bye!", version_id=version.id)
    [line] = [json.loads(x) for x in export.conversation_jsonl(store, [thread.id]).splitlines()]
    assert_fine_tunable(line)
    assert line["messages"][3:] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Checking.", "weight": 0},
        {"role": "user", "content": "Never mind. Bye!"},
        {"role": "assistant", "content": "Echo: Never mind. Bye!"},
    ]


def test_jsonl_lines_end_with_a_reply(store, version):
    thread = store.create_thread(version.assistant_id)
    store.add_message(thread.id, "user", "Q1", version_id=version.id)
    store.add_message(thread.id, "assistant", "A1", version_id=version.id)
    store.add_message(thread.id, "user", "Q2 (its reply failed)", version_id=version.id)
    store.add_message(thread.id, "user", "Q3, no reply yet", version_id=version.id)
    replies_first = store.create_thread(version.assistant_id)
    store.add_message(replies_first.id, "assistant", "A greeting nobody asked for", version_id=version.id)
    text = export.conversation_jsonl(store, [thread.id, replies_first.id])
    [line] = [json.loads(x) for x in text.splitlines()]
    assert [m["content"] for m in line["messages"]] == ["Be brief.", "Q1", "A1"]


def test_jsonl_can_include_incomplete_replies(store, conversation):
    thread, *_ = conversation
    *_, line = (
        json.loads(x) for x in export.conversation_jsonl(store, [thread.id], include_incomplete=True).splitlines()
    )
    assert line["messages"][-2:] == [
        {"role": "user", "content": "Tell me a long story"},
        {"role": "assistant", "content": "Once upon a"},
    ]


def test_unknown_or_foreign_threads_are_refused(store, conversation):
    thread, *_ = conversation
    with pytest.raises(LookupError):
        export.conversation_jsonl(store, [thread.id + 999])
    stranger = type(store)(store.path, owner="someone-else")
    with pytest.raises(LookupError):
        export.conversation_csv(stranger, [thread.id])


# -- CSV -------------------------------------------------------------------------------------------


def test_csv_round_trips_tricky_content(store, conversation):
    thread, _, _, ids = conversation
    text = export.conversation_csv(store, [thread.id])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(export.CSV_COLUMNS)
    assert [int(r["message_id"]) for r in rows] == [ids[k] for k in ("q1", "a1", "q2", "a2", "q3", "a3")]

    tricky = rows[3]
    assert tricky["content"] == TRICKY
    assert (tricky["role"], tricky["status"], tricky["version"], tricky["model"]) == (
        "assistant",
        "complete",
        "2",
        "gpt-4.1",
    )
    assert rows[0]["thread_title"] == "Hi there" and rows[0]["thread_id"] == str(thread.id)
    assert rows[1]["version"] == "1" and rows[1]["model"] == "gpt-4.1-mini"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rows[0]["created_at"])
    assert rows[-1]["status"] == "incomplete"  # the CSV is the whole log; status says what happened


def test_csv_gives_each_reply_its_turns_tokens_cost_and_latency(store, tool_thread):
    thread, _, _, turns, _ = tool_thread
    prices = {"gpt-4.1-mini": usage.Price("gpt-4.1-mini", 0.4, 1.6)}
    rows = export.read_csv(export.conversation_csv(store, [thread.id], prices=prices))
    assert list(rows[0])[-4:] == ["input_tokens", "output_tokens", "cost_usd", "latency_ms"]
    run = {r.id: r for r in store.list_runs(thread.id, bodies=False)}

    def figures(*runs):
        rs = [run[t.run_id] for t in runs]
        inp, out = sum(r.input_tokens for r in rs), sum(r.output_tokens for r in rs)
        cost = sum(usage.cost(r.model, r.input_tokens, r.output_tokens, prices) for r in rs)
        return str(inp), str(out), export._decimal(cost), str(round(sum(r.latency_ms for r in rs)))

    replies = [tuple(r[k] for k in ("input_tokens", "output_tokens", "cost_usd", "latency_ms")) for r in rows]
    by_text = dict(zip([r["content"] for r in rows], replies, strict=True))
    assert by_text["Echo: Hello"] == figures(turns["hello"])
    assert by_text["Let me check."] == figures(turns["asked"])  # the run that wrote it, calls and all
    assert by_text[turns["answered"].result.text] == figures(turns["answered"])
    # A round of only calls left no row: its figures join the reply that followed.
    assert by_text[turns["rome answered"].result.text] == figures(turns["rome"], turns["rome answered"])
    assert all(r["input_tokens"] == r["cost_usd"] == r["latency_ms"] == "" for r in rows if r["role"] == "user")
    assert float(by_text["Echo: Hello"][2]) > 0 and "e-" not in by_text["Echo: Hello"][2]

    # Unknown is empty, never 0: no price for the model; tokens the server never reported.
    store.update_run(turns["hello"].run_id, input_tokens=None, output_tokens=None)
    rows = export.read_csv(export.conversation_csv(store, [thread.id], prices={}))
    hello = next(r for r in rows if r["content"] == "Echo: Hello")
    assert (hello["input_tokens"], hello["output_tokens"], hello["cost_usd"]) == ("", "", "")
    assert hello["latency_ms"] != ""
    other = next(r for r in rows if r["content"] == "Let me check.")
    assert other["input_tokens"] != "" and other["cost_usd"] == ""


def test_csv_can_leave_out_incomplete_messages(store, conversation):
    thread, *_ = conversation
    rows = list(csv.DictReader(io.StringIO(export.conversation_csv(store, [thread.id], include_incomplete=False))))
    assert {r["status"] for r in rows} == {"complete"} and len(rows) == 4


# -- Markdown --------------------------------------------------------------------------------------


def test_markdown_fences_content_so_it_cannot_break_the_document(store, conversation):
    thread, *_ = conversation
    md = export.conversation_markdown(store, [thread.id])
    assert "\n## Hi there\n" in md
    assert re.search(r"^\*\*User\*\* · \d{4}-\d\d-\d\d \d\d:\d\d UTC$", md, re.M)
    assert re.search(r"^\*\*Assistant \(v1 · gpt-4\.1-mini\)\*\* · .+ UTC$", md, re.M)
    assert re.search(r"^\*\*Assistant \(v2 · gpt-4\.1\)\*\* · .+ UTC · _incomplete_$", md, re.M)
    assert TRICKY in md

    # Outside fences, only the export's own structure: its headings and message headers.
    outside, fence = [], None
    for line in md.splitlines():
        if fence is None and (m := re.match(r"^(`{3,})", line)):
            fence = m.group(1)
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            outside.append(line)
    assert fence is None, "a fence was left open"
    headings = [line for line in outside if line.startswith("#")]
    assert headings == ["# Conversations", "## Hi there"]
    assert not any("<script>" in line for line in outside)
    headers = [line for line in outside if line.startswith("**")]
    assert len(headers) == 6


def test_markdown_fence_outgrows_backticks_and_titles_are_escaped(store, version):
    thread = store.create_thread(version.assistant_id, title="<img src=x onerror=alert(1)> **x**")
    store.add_message(thread.id, "assistant", "a ```` run and ``` more", version_id=version.id)
    md = export.conversation_markdown(store, [thread.id], include_incomplete=False)
    assert "\n`````text\na ```` run and ``` more\n`````\n" in md
    assert "## \\<img src=x onerror=alert(1)\\> \\*\\*x\\*\\*" in md


# -- version JSON ----------------------------------------------------------------------------------


def test_version_json_round_trips(store):
    assistant = store.create_assistant()
    config = AssistantConfig(
        name="Forecaster ✓",
        instructions="Answer in JSON.\nUse the tool.",
        functions=[WEATHER],
        response_format=ResponseFormat(type="json_schema", name="answer", schema=ANSWER_SCHEMA),
        temperature=0.2,
        metadata={"team": "weather"},
    )
    v, _ = store.save_version(assistant.id, config, note="first cut")
    text = export.version_json(v)
    document = json.loads(text)
    assert document["format"] == "assistant-playground/version" and document["format_version"] == 1
    assert (document["assistant_id"], document["version"], document["note"]) == (assistant.id, 1, "first cut")
    assert document["config"] == config.to_dict()
    assert "\n  " in text and "✓" in text  # pretty-printed, UTF-8
    assert export.version_from_json(text) == config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"format": "something/else", "format_version": 1, "config": {}}', '"format" should be'),
        ('{"format": "assistant-playground/version", "format_version": 9, "config": {}}', "format 9"),
        ('{"format": "assistant-playground/version", "format_version": 1}', 'no "config"'),
        ('{"format": "assistant-playground/version", "format_version": 1, "config": {"functions": [1]}}', "shape"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
    ids=["not json", "array", "other format", "newer format", "no config", "bad shape", "deep"],
)
def test_version_from_json_refuses_bad_input(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        export.version_from_json(text)


def test_only_a_document_of_the_version_format_counts_as_a_version_file(store):
    v, _ = store.save_version(store.create_assistant().id, AssistantConfig(name="Bot", instructions="Be brief."))
    assert export.is_version_document(export.version_json(v))
    # A legacy export that merely mentions the format (here as a metadata key) is not one.
    legacy_export = json.dumps({"object": "assistant", "metadata": {"assistant-playground/version": "1"}})
    assert '"assistant-playground/version"' in legacy_export
    assert not export.is_version_document(legacy_export)
    assert not export.is_version_document("{not json") and not export.is_version_document("[" * 100_000)


# -- Python snippet --------------------------------------------------------------------------------


def snippet_config() -> AssistantConfig:
    return AssistantConfig(
        name='Forecaster "beta"\n""" import os',  # would end the docstring if copied in as is
        instructions='Answer in JSON. Say "null", true or false\\n when unsure.',
        model="gpt-4.1-mini",
        functions=[WEATHER],
        response_format=ResponseFormat(type="json_schema", name="answer", schema=ANSWER_SCHEMA),
        temperature=0.3,
        top_p=None,
        max_output_tokens=500,
        metadata={"team": "weather", "quote": "it's"},
    )


def test_snippet_compiles_and_holds_no_key():
    config = snippet_config()
    # Empty containers, an infinite bound (json.loads reads 1e999 as inf) and awkward text in the literal.
    odd = '{"type": "object", "properties": {"n": {"type": "number", "maximum": 1e999, "default": ""}}}'
    config.functions.append(FunctionTool(name="noop", description="Ünïcödé \\ \"\"\" '''", parameters=odd))
    config.functions.append(FunctionTool(name="empty"))
    code = export.python_snippet(config)
    compile(code, "snippet.py", "exec")
    assert "from openai import OpenAI" in code and "client = OpenAI()" in code
    assert "api_key" not in code and "sk-" not in code and "base_url" not in code
    assert "'maximum': float('inf')," in code and "'properties': {}," in code
    # The literal evaluates back to exactly the request a turn would send, without streaming.
    literal = code.split("request = ", 1)[1].split("\n\nif ", 1)[0]
    assert eval(literal) == request.build(config, input=export.SNIPPET_PLACEHOLDER, stream=False)


def test_snippet_refuses_an_invalid_config():
    with pytest.raises(ValueError, match="temperature"):
        export.python_snippet(AssistantConfig(temperature=5))


def test_snippet_runs_against_the_local_server(upstream, tmp_path):
    config = snippet_config()
    script = tmp_path / "snippet.py"
    script.write_text(export.python_snippet(config), encoding="utf-8")
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-snippet", "OPENAI_BASE_URL": upstream.base_url}
    done = subprocess.run(
        [sys.executable, str(script), "Hello from the snippet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Echo: Hello from the snippet" in done.stdout

    posts = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/responses"]
    assert len(posts) == 1
    body = posts[0]["body"]
    expected = request.build(config, input="Hello from the snippet", stream=False)
    for key in ("model", "instructions", "tools", "temperature", "text", "metadata", "max_output_tokens", "input"):
        assert body[key] == expected[key], key
    assert body == expected
    assert posts[0]["headers"]["authorization"] == "Bearer sk-test-snippet"


def test_the_chat_snippet_runs_against_a_chat_only_server(tmp_path):
    from playground import chat
    from tests.openai_server import OpenAIServer

    config = AssistantConfig(name="Local", instructions="Be brief.", model="llama3.2:3b", temperature=0.2)
    script = tmp_path / "snippet.py"
    script.write_text(export.python_snippet(config, "chat"), encoding="utf-8")
    with OpenAIServer(api="chat") as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test-snippet", "OPENAI_BASE_URL": server.base_url}
        done = subprocess.run(
            [sys.executable, str(script), "Hello local"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Echo: Hello local"
        [post] = [r for r in server.requests if r["path"] == "/v1/chat/completions"]
        assert post["body"] == chat.build(config, [{"role": "user", "content": "Hello local"}], stream=False)
        assert server.violations == []
    hosted = AssistantConfig(name="Searcher", model="llama3.2:3b")
    hosted.code_interpreter.enabled = True
    with pytest.raises(ValueError, match="Code interpreter runs only on OpenAI's Responses API"):
        export.python_snippet(hosted, "chat")
