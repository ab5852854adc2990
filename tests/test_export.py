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

from playground import export, request
from playground.assistant import AssistantConfig, FunctionTool, ResponseFormat

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


def test_jsonl_is_chat_format_with_the_first_replys_instructions(store, conversation):
    thread, v1, v2, _ = conversation
    other = store.create_thread(v1.assistant_id)
    store.add_message(other.id, "user", "Only a question", version_id=v2.id)

    text = export.conversation_jsonl(store, [thread.id, other.id])
    # A thread without a completed exchange is no example: it is left out.
    assert text.endswith("\n") and text.count("\n") == 1
    [first] = (json.loads(line) for line in text.splitlines())
    assert list(first) == ["messages"]  # nothing a fine-tuning upload would refuse

    roles = [m["role"] for m in first["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert first["messages"][0]["content"] == "Be brief."  # v1 produced the first reply, not v2
    assert first["messages"][4]["content"] == TRICKY
    assert "Once upon a" not in text and "Tell me a long story" not in text  # incomplete excluded
    assert "日本語" in text  # UTF-8 as is, not \\u escapes


def test_jsonl_metadata_only_when_asked(store, conversation):
    thread, *_ = conversation
    line = json.loads(export.conversation_jsonl(store, [thread.id], metadata=True))
    assert line["metadata"] == {
        "thread_id": thread.id,
        "title": "Hi there",
        "assistant": "Tester",
        "versions": [1, 2],
        "model": "gpt-4.1-mini",
    }


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
    line = json.loads(export.conversation_jsonl(store, [thread.id], include_incomplete=True))
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
