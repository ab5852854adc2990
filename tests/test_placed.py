"""Messages placed into a thread by hand (issue 12, item 5): logged like any other, sent upstream with the
next turn on both ways (once: never again on later turns, once more after a failed attempt's retry),
marked in the trace and in every export. Real SDK against the local server; the page with AppTest."""

from __future__ import annotations

import csv
import io
import json

import pytest
from streamlit.testing.v1 import AppTest

from playground import export, placed, provider, trace, turn
from playground.assistant import AssistantConfig
from playground.chat import ChatBackend
from playground.client import ApiKey, make_client
from playground.turn import TurnDone
from tests.conftest import TEST_KEY
from tests.pages import APP, create

SETUP_Q = "My order #123 arrived broken."
SETUP_A = "I am sorry to hear that. Could you send a photo?"


def run(store, backend, thread_id, version, text):
    t = turn.start(store, backend, thread_id, version, text, secrets=(TEST_KEY,))
    events = list(t.events())
    assert isinstance(events[-1], TurnDone)
    return t


def retry(store, backend, message_id, version):
    t = turn.retry(store, backend, message_id, version, secrets=(TEST_KEY,))
    list(t.events())
    return t


def place_setup(store, thread_id):
    return store.place_message(thread_id, "user", SETUP_Q), store.place_message(thread_id, "assistant", SETUP_A)


def response_inputs(server):
    return [r["body"]["input"] for r in server.requests if r["method"] == "POST" and r["path"] == "/v1/responses"]


def chat_messages(server):
    return [
        [(m["role"], m["content"]) for m in r["body"]["messages"]]
        for r in server.requests
        if r["path"] == "/v1/chat/completions"
    ]


def texts_of(items):
    """(role, text) of Responses input items or conversation items."""
    out = []
    for item in items:
        content = item["content"] if isinstance(item, dict) else [p.model_dump() for p in item.content]
        role = item["role"] if isinstance(item, dict) else item.role
        out.append((role, content if isinstance(content, str) else "".join(p.get("text", "") for p in content)))
    return out


def conversation_texts(upstream, store, thread_id):
    return texts_of(upstream.items(store.get_thread(thread_id).conversation_id))


# -- the log ---------------------------------------------------------------------------------------


def test_a_placed_message_is_logged_complete_without_a_run_and_names_a_new_thread(store, thread):
    user_id, reply_id = place_setup(store, thread.id)
    messages = store.list_messages(thread.id)
    assert [(m.id, m.role, m.content, m.status, m.run_id, m.version_id, bool(m.placed)) for m in messages] == [
        (user_id, "user", SETUP_Q, "complete", None, None, True),
        (reply_id, "assistant", SETUP_A, "complete", None, None, True),
    ]
    assert store.get_thread(thread.id).title == SETUP_Q  # as a first typed message would
    assert store.count_messages(thread.id) == 2


def test_placing_is_refused_in_one_sentence_when_it_cannot_be_sent_as_placed(store, thread, version):
    with pytest.raises(ValueError, match="user's or the assistant's"):
        store.place_message(thread.id, "system", "be evil")
    with pytest.raises(ValueError, match="Type the message"):
        store.place_message(thread.id, "user", "  \n ")
    with pytest.raises(LookupError):
        type(store)(store.path, owner="someone-else").place_message(thread.id, "user", "not yours")
    # A reply being written: the message would land in the middle of the turn.
    message_id, run_id = store.start_turn(thread.id, "Hi", version.id, version.config.model)
    with pytest.raises(ValueError, match="A reply is being written"):
        store.place_message(thread.id, "assistant", "too soon")
    # Function calls waiting for outputs: a message cannot come between the calls and their answers.
    store.finish_turn(
        run_id,
        user_message_id=message_id,
        user_status="complete",
        reply=None,
        reply_status="complete",
        thread_id=thread.id,
        version_id=version.id,
        tool_calls=[("call_1", "get_weather", "{}", [])],
        status="requires_action",
    )
    with pytest.raises(ValueError, match="waiting for function outputs"):
        store.place_message(thread.id, "user", "meanwhile")
    assert [m.content for m in store.list_messages(thread.id)] == ["Hi"]


# -- the conversations way (Responses + a Conversation upstream) ----------------------------------------


def test_placed_messages_go_upstream_with_the_next_turn_once(store, backend, upstream, thread, version):
    place_setup(store, thread.id)
    first = run(store, backend, thread.id, version, "Here it is.")
    assert first.result.status == "completed" and first.result.text == "Echo: Here it is."
    second = run(store, backend, thread.id, version, "Any news?")
    assert second.result.status == "completed"

    first_input, second_input = response_inputs(upstream)
    assert first_input[1] == {"type": "message", "role": "assistant", "content": SETUP_A}  # EasyInputMessage
    assert texts_of(first_input) == [("user", SETUP_Q), ("assistant", SETUP_A), ("user", "Here it is.")]
    assert texts_of(second_input) == [("user", "Any news?")]  # upstream has them already
    assert conversation_texts(upstream, store, thread.id) == [
        ("user", SETUP_Q),
        ("assistant", SETUP_A),
        ("user", "Here it is."),
        ("assistant", "Echo: Here it is."),
        ("user", "Any news?"),
        ("assistant", "Echo: Any news?"),
    ]
    # Placed after a turn: sent with the one after it, after the history upstream already holds.
    store.place_message(thread.id, "assistant", "(The courier called.)")
    run(store, backend, thread.id, version, "Thanks")
    assert texts_of(response_inputs(upstream)[-1]) == [("assistant", "(The courier called.)"), ("user", "Thanks")]
    assert [t for t in conversation_texts(upstream, store, thread.id) if t[1] == "(The courier called.)"] == [
        ("assistant", "(The courier called.)")
    ]


def test_a_retry_after_an_attempt_upstream_kept_resends_the_placed_messages_once(
    store, backend, upstream, thread, version
):
    run(store, backend, thread.id, version, "one")
    store.place_message(thread.id, "assistant", "A placed answer")
    # The reply stops short: upstream keeps the attempt's input (the placed message too) in the conversation.
    upstream.script({"chunks": ["a", "b", "c"], "incomplete_after": 1})
    failed = run(store, backend, thread.id, version, "two")
    assert failed.result.status == "incomplete"
    assert ("assistant", "A placed answer") in conversation_texts(upstream, store, thread.id)

    retried = retry(store, backend, failed.user_message_id, version)
    assert retried.result.status == "completed"
    assert texts_of(response_inputs(upstream)[-1]) == [("assistant", "A placed answer"), ("user", "two")]
    assert conversation_texts(upstream, store, thread.id) == [
        ("user", "one"),
        ("assistant", "Echo: one"),
        ("assistant", "A placed answer"),
        ("user", "two"),
        ("assistant", "Echo: two"),
    ]
    # Never deleted from the log by the retry, and not sent again after it.
    assert [m.content for m in store.list_messages(thread.id) if m.placed] == ["A placed answer"]
    run(store, backend, thread.id, version, "three")
    assert texts_of(response_inputs(upstream)[-1]) == [("user", "three")]


def test_a_retry_after_an_attempt_upstream_refused_resends_them_too(store, backend, upstream, thread, version):
    place_setup(store, thread.id)
    upstream.script({"status": 500, "times": 3})
    failed = run(store, backend, thread.id, version, "first")
    assert failed.result.status == "failed"
    retried = retry(store, backend, failed.user_message_id, version)
    assert retried.result.status == "completed"
    assert conversation_texts(upstream, store, thread.id) == [
        ("user", SETUP_Q),
        ("assistant", SETUP_A),
        ("user", "first"),
        ("assistant", "Echo: first"),
    ]


def test_the_first_turn_failing_after_upstream_took_it_starts_afresh_with_the_placed_messages(
    store, backend, upstream, thread, version
):
    place_setup(store, thread.id)
    upstream.script({"chunks": ["a", "b"], "incomplete_after": 1})
    failed = run(store, backend, thread.id, version, "first")
    retried = retry(store, backend, failed.user_message_id, version)
    assert retried.result.status == "completed"
    assert conversation_texts(upstream, store, thread.id) == [
        ("user", SETUP_Q),
        ("assistant", SETUP_A),
        ("user", "first"),
        ("assistant", "Echo: first"),
    ]


def test_many_placed_messages_in_a_failed_attempt_are_still_removed_before_the_retry(
    store, backend, upstream, thread, version
):
    """The failed attempt carried 30 placed messages: the retry looks back far enough to remove them."""
    run(store, backend, thread.id, version, "one")
    for n in range(30):
        store.place_message(thread.id, "user" if n % 2 else "assistant", f"placed {n}")
    upstream.script({"chunks": ["a", "b"], "incomplete_after": 1})
    failed = run(store, backend, thread.id, version, "two")
    retry(store, backend, failed.user_message_id, version)
    texts = [t for _, t in conversation_texts(upstream, store, thread.id)]
    assert texts == ["one", "Echo: one", *[f"placed {n}" for n in range(30)], "two", "Echo: two"]


def test_a_failed_message_with_a_message_placed_after_it_is_not_retried(store, backend, upstream, thread, version):
    upstream.script({"status": 500, "times": 3})
    failed = run(store, backend, thread.id, version, "first")
    store.place_message(thread.id, "assistant", "Let us say it answered this.")  # placing is fine
    with pytest.raises(ValueError, match="A message was placed after this one"):
        turn.retry(store, backend, failed.user_message_id, version)
    # The thread goes on with a new message: the placed one goes with it, the failed one is not history.
    run(store, backend, thread.id, version, "next")
    assert texts_of(response_inputs(upstream)[-1]) == [
        ("assistant", "Let us say it answered this."),
        ("user", "next"),
    ]


def test_placed_messages_after_function_outputs_come_after_them():
    """The Responses body puts what upstream lacks before the text, or after the outputs answering the calls."""
    from playground.backend import ResponsesBackend

    backend = ResponsesBackend.__new__(ResponsesBackend)
    config = AssistantConfig(name="x", model="gpt-4.1-mini")
    items = [{"type": "message", "role": "assistant", "content": "placed"}]
    with_text = backend.request(config, "conv_1", text="hi", history=items)["input"]
    assert [i["role"] for i in with_text] == ["assistant", "user"]
    with_outputs = backend.request(config, "conv_1", outputs={"call_1": "42"}, history=items)["input"]
    assert [i["type"] for i in with_outputs] == ["function_call_output", "message"]


def test_the_local_server_refuses_input_text_on_an_assistant_message_as_the_api_does(backend, upstream):
    import openai

    with pytest.raises(openai.BadRequestError, match="Supported values are: 'output_text' and 'refusal'"):
        backend.client.responses.create(
            model="gpt-4.1-mini",
            input=[{"type": "message", "role": "assistant", "content": [{"type": "input_text", "text": "x"}]}],
        )


# -- the chat way (Chat Completions, the history from the log) -------------------------------------------


@pytest.fixture
def chat_backend(local):
    return ChatBackend(make_client(ApiKey(TEST_KEY, "environment"), local.base_url))


def test_chat_way_sends_placed_messages_in_order_with_their_roles_on_every_turn(store, local, chat_backend, version):
    thread = store.create_thread(version.assistant_id)
    place_setup(store, thread.id)
    run(store, chat_backend, thread.id, version, "Here it is.")
    store.place_message(thread.id, "user", "(Photo attached.)")
    run(store, chat_backend, thread.id, version, "Well?")
    first, second = chat_messages(local)
    assert first == [("system", "Be brief."), ("user", SETUP_Q), ("assistant", SETUP_A), ("user", "Here it is.")]
    assert second == [
        *first,
        ("assistant", "Echo: Here it is."),
        ("user", "(Photo attached.)"),
        ("user", "Well?"),
    ]  # each once, where it was placed


def test_chat_way_retry_resends_them_once(store, local, chat_backend, version):
    thread = store.create_thread(version.assistant_id)
    place_setup(store, thread.id)
    local.script({"status": 500, "times": 3})
    failed = run(store, chat_backend, thread.id, version, "first")
    assert failed.result.status == "failed"
    retried = retry(store, chat_backend, failed.user_message_id, version)
    assert retried.result.status == "completed"
    assert chat_messages(local)[-1] == [
        ("system", "Be brief."),
        ("user", SETUP_Q),
        ("assistant", SETUP_A),
        ("user", "first"),
    ]
    assert [m.content for m in store.list_messages(thread.id) if m.placed] == [SETUP_Q, SETUP_A]


def test_a_chat_thread_that_starts_with_a_placed_assistant_message(store, local, chat_backend, version):
    thread = store.create_thread(version.assistant_id)
    store.place_message(thread.id, "assistant", "Hello! I am the store's assistant.")
    run(store, chat_backend, thread.id, version, "Hi")
    assert chat_messages(local)[-1][1:] == [("assistant", "Hello! I am the store's assistant."), ("user", "Hi")]


# -- the trace ---------------------------------------------------------------------------------------


def test_the_trace_shows_the_placed_messages_a_turn_carried(store, backend, upstream, thread, version):
    place_setup(store, thread.id)
    first = run(store, backend, thread.id, version, "Here it is.")
    second = run(store, backend, thread.id, version, "Any news?")
    run1, run2 = store.get_run(first.run_id), store.get_run(second.run_id)
    sent = trace.placed_sent(store, run1)
    assert [(m.role, m.content) for m in sent] == [("user", SETUP_Q), ("assistant", SETUP_A)]
    step = trace.steps(run1, [], placed=sent)[0]
    assert step["step"] == "placed messages sent: 2"
    assert step["messages"] == [
        {"role": "user", "text": SETUP_Q, "placed": True},
        {"role": "assistant", "text": SETUP_A, "placed": True},
    ]
    assert trace.placed_sent(store, run2) == []
    assert [s["step"] for s in trace.steps(run2, [], placed=[])] == ["message"]


def test_the_trace_of_a_retry_and_of_chat_turns(store, local, chat_backend, version):
    thread = store.create_thread(version.assistant_id)
    store.place_message(thread.id, "assistant", "placed")
    local.script({"status": 500, "times": 3})
    failed = run(store, chat_backend, thread.id, version, "first")
    retried = retry(store, chat_backend, failed.user_message_id, version)
    later = run(store, chat_backend, thread.id, version, "second")
    for t in (failed, retried, later):  # the chat way resends the whole thread: every turn carries it
        assert [m.content for m in trace.placed_sent(store, store.get_run(t.run_id))] == ["placed"]


def test_a_placed_message_left_out_by_a_full_context_is_not_in_the_trace(store, local, chat_backend, version):
    """Checked against the request as sent, not only the log."""
    thread = store.create_thread(version.assistant_id)
    store.place_message(thread.id, "user", "placed")
    t = run(store, chat_backend, thread.id, version, "hi")
    row = store.get_run(t.run_id)
    assert [m.content for m in trace.placed_sent(store, row)] == ["placed"]
    row.request = json.dumps({"messages": [{"role": "user", "content": "hi"}]})  # as if trimmed
    assert placed.sent_with(row, store.list_messages(thread.id), store.list_runs(thread.id)) == []


# -- exports ---------------------------------------------------------------------------------------


@pytest.fixture
def placed_thread(store, backend, upstream, thread, version):
    place_setup(store, thread.id)
    run(store, backend, thread.id, version, "Here it is.")
    store.place_message(thread.id, "assistant", "A placed closing line.")  # after the last model reply
    return thread


def test_jsonl_gives_a_placed_assistant_message_weight_0(store, placed_thread):
    [line] = export.conversation_jsonl(store, [placed_thread.id]).splitlines()
    assert json.loads(line) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": SETUP_Q},
            {"role": "assistant", "content": SETUP_A, "weight": 0},
            {"role": "user", "content": "Here it is."},
            {"role": "assistant", "content": "Echo: Here it is."},
        ]
    }  # ends with the model's last reply, not the placed line after it
    [with_meta] = export.conversation_jsonl(store, [placed_thread.id], metadata=True).splitlines()
    assert json.loads(with_meta)["metadata"]["placed"] == [1, 2]


def test_jsonl_leaves_out_a_thread_whose_only_assistant_messages_were_placed(store, thread):
    place_setup(store, thread.id)
    assert export.conversation_jsonl(store, [thread.id]) == ""


def test_csv_and_markdown_mark_placed_messages(store, placed_thread):
    rows = list(csv.DictReader(io.StringIO(export.conversation_csv(store, [placed_thread.id]), newline="")))
    assert [(r["role"], r["placed"]) for r in rows] == [
        ("user", "yes"),
        ("assistant", "yes"),
        ("user", ""),
        ("assistant", ""),
        ("assistant", "yes"),
    ]
    assert rows[1]["model"] == "" and rows[1]["version"] == ""  # no model wrote it
    markdown = export.conversation_markdown(store, [placed_thread.id])
    headers = [line for line in markdown.splitlines() if line.startswith("**")]
    assert [h.split("** · ")[0] + "**" for h in headers] == [
        "**User**",
        "**Assistant**",
        "**User**",
        "**Assistant (v1 · gpt-4.1-mini)**",
        "**Assistant**",
    ]
    assert ["placed by hand" in h for h in headers] == [True, True, False, False, True]


# -- the page ----------------------------------------------------------------------------------------


def place(at, role, text):
    at.radio(key="place.role").set_value(role)
    at.text_area(key="place.text").input(text)
    at.button(key="place_send").click().run()
    assert not at.exception, at.exception


def test_the_place_box_checks_the_text_places_into_a_new_thread_and_the_turn_sends_it(app, upstream, log):
    create(app)
    place(app, "user", "   ")
    assert [e.value for e in app.error] == ["Type the message to place."]
    [assistant] = log.list_assistants()
    assert log.list_threads(assistant["id"]) == []  # nothing placed, no thread made

    place(app, "user", SETUP_Q)
    assert [e.value for e in app.error] == []
    [thread] = log.list_threads(assistant["id"])  # placing made the thread, as a first send does
    place(app, "assistant", SETUP_A)
    assert app.text_area(key="place.text").value == ""  # emptied for the next one
    assert [(m.role, m.content, bool(m.placed)) for m in log.list_messages(thread.id)] == [
        ("user", SETUP_Q, True),
        ("assistant", SETUP_A, True),
    ]
    assert [m.markdown[0].value for m in app.chat_message] == [SETUP_Q, SETUP_A]
    assert all("placed by hand" in m.caption[0].value for m in app.chat_message)
    assert app.session_state["thread_id"] == thread.id

    app.chat_input[0].set_value("Here it is.").run()
    assert not app.exception, app.exception
    assert texts_of(response_inputs(upstream)[-1]) == [
        ("user", SETUP_Q),
        ("assistant", SETUP_A),
        ("user", "Here it is."),
    ]
    shown = app.chat_message
    assert [m.markdown[0].value for m in shown] == [SETUP_Q, SETUP_A, "Here it is.", "Echo: Here it is."]
    assert ["placed by hand" in m.caption[0].value for m in shown] == [True, True, False, False]

    # The reply's trace names what was placed among what its turn sent.
    reply = log.list_messages(thread.id)[-1]
    app.button(key=f"trace.{reply.id}").click().run()
    assert not app.exception, app.exception
    assert "**1. placed messages sent: 2**" in [m.value for m in app.markdown]


def test_without_a_key_placing_still_works(db_path, monkeypatch):
    """Placing needs no upstream: a visitor without a key can set up a thread before adding one."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv(provider.API_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    place(at, "user", "set up")
    assert [m.markdown[0].value for m in at.chat_message] == ["set up"]
