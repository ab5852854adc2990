"""The local OpenAI server itself: it must be faithful, or the other tests prove nothing."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest

from tests.openai_server import OpenAIServer, Reply
from tests.openai_server import spec as spec_module


def test_models_and_the_real_event_sequence(backend, upstream):
    assert "gpt-5" in backend.list_models()
    conversation = backend.create_conversation({"thread": "1"})
    upstream.script({"text": "Hello world", "usage": {"input_tokens": 7, "output_tokens": 2}})
    stream = backend.client.responses.create(model="gpt-4.1-mini", input="Hi", conversation=conversation, stream=True)
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    done = events[-1].response
    assert done.output_text == "Hello world"
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.total_tokens) == (7, 2, 9)
    assert stream.response.headers["x-request-id"].startswith("req_")
    # The conversation took the input and the reply, in order.
    items = backend.recent_items(conversation, limit=10)[::-1]
    assert [(i.role, i.content[0].text) for i in items] == [("user", "Hi"), ("assistant", "Hello world")]


def test_non_streaming_response(backend, upstream):
    upstream.script({"text": "Plain", "function_calls": [{"name": "f", "arguments": {"a": 1}}]})
    response = backend.client.responses.create(model="gpt-4.1-mini", input="x")
    assert response.status == "completed" and response.output_text == "Plain"
    assert response.output[1].type == "function_call" and json.loads(response.output[1].arguments) == {"a": 1}


def test_items_page_in_both_orders_and_delete(backend, upstream):
    client = backend.client
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": f"m{i}"} for i in range(5)]
    )
    page = client.conversations.items.list(conversation.id, order="asc", limit=2)
    assert [i.content[0].text for i in page.data] == ["m0", "m1"] and page.has_more
    everything = [i.content[0].text for i in client.conversations.items.list(conversation.id, order="asc", limit=2)]
    assert everything == ["m0", "m1", "m2", "m3", "m4"]  # the SDK follows `after` across pages
    newest = client.conversations.items.list(conversation.id, order="desc", limit=1).data[0]
    client.conversations.items.delete(newest.id, conversation_id=conversation.id)
    assert len(upstream.items(conversation.id)) == 4
    assert client.conversations.retrieve(conversation.id).id == conversation.id
    client.conversations.delete(conversation.id)
    with pytest.raises(openai.NotFoundError, match="not found"):
        client.conversations.retrieve(conversation.id)


def test_unknown_conversation_and_the_shut_down_assistants_api_answer_404(backend, upstream):
    with pytest.raises(openai.NotFoundError, match="Conversation"):
        backend.client.responses.create(model="gpt-4.1-mini", input="x", conversation="conv_nope")
    with pytest.raises(openai.NotFoundError, match="shut down"):
        backend.client.get("/assistants", cast_to=object)


def test_scripted_errors_repeat_for_retries_then_clear(backend, upstream):
    upstream.script({"status": 503, "times": 2, "error": {"message": "busy", "type": "server_error"}})
    response = backend.client.responses.create(model="gpt-4.1-mini", input="x")  # 2 retries absorb it
    assert response.status == "completed"
    assert len([r for r in upstream.requests if r["path"] == "/v1/responses"]) == 3


def test_a_missing_key_is_401(upstream):
    request = urllib.request.Request(upstream.base_url + "/models")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 401


def test_reply_keys_are_checked():
    with pytest.raises(ValueError, match="unknown reply keys"):
        Reply.of({"txet": "typo"})


def test_control_endpoints_for_a_server_started_by_hand():
    with OpenAIServer() as server:
        root = server.base_url.removesuffix("/v1")

        def call(path, body=None):
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(root + path, data=data, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as r:
                return json.loads(r.read())

        assert call("/_control/script", [{"text": "one"}, {"text": "two"}]) == {"queued": 2}
        assert call("/_control/requests", None)["requests"] == []
        assert call("/_control/reset", {}) == {"reset": True}
        assert server.next_reply("POST", "/responses") is None


def _control(server, path, data: bytes | None, content_type: str | None) -> tuple[int, dict]:
    """A control request as curl sends one: `-d` makes it a form post unless told otherwise."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(server.base_url.removesuffix("/v1") + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_control_bodies_are_json_whatever_the_content_type_says(upstream):
    body = b'{"chunks": ["Slow", " and", " steady"], "gap": 0.5}'
    assert _control(upstream, "/_control/script", body, "application/x-www-form-urlencoded") == (200, {"queued": 1})
    assert _control(upstream, "/_control/script", b'[{"text": "a"}]', None) == (200, {"queued": 2})
    assert upstream.next_reply("POST", "/responses").chunks == ["Slow", " and", " steady"]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"chunks=Slow&gap=0.5", "The control body is not JSON"),
        (b"{'text': 'single quotes'}", "The control body is not JSON"),
        (b"", "needs a JSON body"),
        (b"5", "Each reply is a JSON object"),
        (b'["hello"]', "Each reply is a JSON object"),
        (b'{"txet": "typo"}', "unknown reply keys"),
    ],
    ids=["form", "not json", "empty", "a number", "a list of text", "unknown key"],
)
def test_a_control_body_that_is_not_a_reply_is_a_clear_400(upstream, data, said):
    status, answer = _control(upstream, "/_control/script", data, "application/x-www-form-urlencoded")
    assert status == 400
    message = answer["error"]["message"]
    assert said in message, message
    assert "NoneType" not in message and "not iterable" not in message


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_examples_work(upstream):
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    lines = [line for line in readme.splitlines() if line.startswith("curl ") and "/_control/script" in line]
    assert len(lines) >= 4
    for queued, line in enumerate(lines, start=1):
        argv = shlex.split(line.replace("localhost:8765", f"127.0.0.1:{upstream.port}"), comments=True)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
        assert json.loads(done.stdout) == {"queued": queued}, (line, done.stdout)


@pytest.mark.skipif(spec_module.load() is None, reason="../shared/spec is absent in a plain clone (CI has it)")
def test_a_request_that_breaks_the_spec_is_refused_and_recorded(key):
    from playground.client import make_client

    with OpenAIServer() as server:
        assert server.spec_loaded
        client = make_client(key, server.base_url).with_options(max_retries=0)
        with pytest.raises(openai.BadRequestError, match="does not match the OpenAI spec"):
            client.responses.create(model="gpt-4.1-mini", input="x", temperature="hot")
        assert server.violations and "temperature" in server.violations[0]
        # A valid request with every field the app sends passes.
        server.violations.clear()
        client.responses.create(
            model="gpt-4.1-mini",
            input=[{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}],
            instructions="i",
            tools=[{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": False}],
            text={"format": {"type": "json_object"}},
            max_output_tokens=50,
            metadata={"a": "b"},
        )
        assert server.violations == []


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"model": "o3", "temperature": 0.2}, "temperature"),
        ({"model": "gpt-5-mini", "top_p": 0.5}, "top_p"),
        ({"model": "gpt-5.1", "temperature": 0.2, "reasoning": {"effort": "high"}}, "temperature"),
        ({"model": "gpt-4.1-mini", "conversation": "CONV", "previous_response_id": "resp_1"}, "conversation"),
    ],
)
def test_refuses_what_the_real_api_refuses_beyond_the_schema(backend, upstream, request_fields, param):
    fields = dict(request_fields)
    if fields.get("conversation") == "CONV":
        fields["conversation"] = backend.create_conversation()
    with pytest.raises(openai.BadRequestError) as refused:
        backend.client.responses.create(input="Hi", **fields)
    assert refused.value.param == param


def test_sampling_is_taken_where_the_model_takes_it(backend, upstream):
    for fields in (
        {"model": "gpt-4.1-mini", "temperature": 0.2},
        {"model": "gpt-5-chat-latest", "temperature": 0.2},
        {"model": "gpt-5.1", "temperature": 0.2, "reasoning": {"effort": "none"}},
        {"model": "o3"},
    ):
        assert backend.client.responses.create(input="Hi", **fields).status == "completed"


@pytest.mark.parametrize(
    "model", ["gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "chatgpt-4o-latest"]
)
def test_reasoning_effort_is_refused_where_the_model_does_not_reason(backend, upstream, model):
    with pytest.raises(openai.BadRequestError) as refused:
        backend.client.responses.create(model=model, input="Hi", reasoning={"effort": "low"})
    assert refused.value.param == "reasoning.effort" and refused.value.code == "unsupported_parameter"
    assert "Unsupported parameter: 'reasoning.effort' is not supported with this model." in str(refused.value)


def test_reasoning_effort_is_taken_where_the_model_reasons_or_may(backend, upstream):
    for model in ("o3", "gpt-5-mini", "gpt-5.4-mini", "llama3.2:3b"):  # a model the app cannot know: upstream says
        assert backend.client.responses.create(model=model, input="Hi", reasoning={"effort": "low"}).status == (
            "completed"
        )


def test_function_outputs_must_answer_the_calls_the_conversation_holds(backend, upstream):
    conversation = backend.create_conversation()
    upstream.script({"function_calls": [{"name": "f", "arguments": {}, "call_id": "call_1"}]})
    backend.client.responses.create(model="gpt-4.1-mini", input="call f", conversation=conversation)
    with pytest.raises(openai.BadRequestError, match="No tool output found for function call call_1"):
        backend.client.responses.create(model="gpt-4.1-mini", input="something else", conversation=conversation)
    wrong = [{"type": "function_call_output", "call_id": "call_2", "output": "x"}]
    with pytest.raises(openai.BadRequestError, match=r"No tool call found .* call_2"):
        backend.client.responses.create(model="gpt-4.1-mini", input=wrong, conversation=conversation)
    right = [{"type": "function_call_output", "call_id": "call_1", "output": "42"}]
    done = backend.client.responses.create(model="gpt-4.1-mini", input=right, conversation=conversation)
    assert done.output_text == "The function returned: 42"


def test_an_incomplete_response_stays_in_its_conversation(backend, upstream):
    conversation = backend.create_conversation()
    upstream.script({"chunks": ["Half", " a", " reply"], "incomplete_after": 1})
    events = list(
        backend.client.responses.create(model="gpt-4.1-mini", input="Hi", conversation=conversation, stream=True)
    )
    assert events[-1].type == "response.incomplete"
    items = backend.recent_items(conversation, limit=10)[::-1]
    assert [(i.role, i.status, i.content[0].text) for i in items] == [
        ("user", "completed", "Hi"),
        ("assistant", "incomplete", "Half"),
    ]
