"""The fault matrix (issue 6): every way a turn can go wrong, through the engine and through the page.

For each fault: the user sees one clear sentence, the app stays usable (the next message goes
through), the user's text is kept (its row, and Retry where retrying makes sense), no message is
lost or duplicated (in the log and in the upstream conversation after a retry), and the run is
logged with its status and the kind of problem.

Everything runs through the real openai SDK against the local server over loopback. The connect
timeout is a real one: a listening socket whose accept queue is full, so the kernel drops the SYNs.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest

from playground import settings, turn
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.turn import TextDelta, TurnDone
from tests.conftest import TEST_KEY
from tests.pages import chat_texts, create, texts

# A read timeout far below the trickle's total time but above its gaps: it bounds the gap, not the reply.
SHORT_READ = httpx2.Timeout(0.6, connect=5.0)
SHORT_CONNECT = httpx2.Timeout(60.0, connect=0.4)
TRICKLE = ["w0", *(f" w{i}" for i in range(1, 24))]
AFTER = ["after", "Echo: after"]  # the message sent after the fault, and its answer


def err(status, message="nope", type_="invalid_request_error", param=None, code=None, times=1):
    error = {"message": message, "type": type_, "param": param, "code": code}
    return {"status": status, "times": times, "error": error}


@dataclass(frozen=True)
class Fault:
    script: dict | None  # what the local server does to the failing turn's request
    status: str  # the run's status afterwards
    kind: str | None  # errors.Problem.kind, kept as Run.problem and Message.problem
    sentence: str | None  # the part of the one sentence the user must see
    partial: str = ""  # reply text that arrived before the fault, kept as an incomplete reply
    timeout: httpx2.Timeout | None = None  # the client timeout for the failing turn
    black_hole: bool = False  # the API's address accepts no connection (connect timeout)
    gone: bool = False  # the thread's conversation was deleted upstream


FAULTS = {
    "401": Fault(
        err(401, "Incorrect API key provided", code="invalid_api_key"),
        "failed",
        "auth",
        "The API key was rejected (401)",
    ),
    "403": Fault(
        err(403, "Project does not have access to model gpt-4.1-mini"),
        "failed",
        "permission",
        "This key may not use that model or resource (403)",
    ),
    "404_conversation_gone": Fault(
        None, "failed", "conversation_gone", "This thread's conversation no longer exists upstream (404)", gone=True
    ),
    "404_other": Fault(
        err(404, "The model gpt-9 does not exist"),
        "failed",
        "not_found",
        "Not found (404): The model gpt-9 does not exist",
    ),
    "400_param": Fault(
        err(400, "Invalid value for temperature", param="temperature", code="invalid_value"),
        "failed",
        "bad_request",
        "The request was refused in `temperature` (400): Invalid value for temperature",
    ),
    "429": Fault(
        err(429, "Slow down", type_="requests", times=3), "failed", "rate_limit", "Rate limited (429) after retrying"
    ),
    "429_quota": Fault(
        err(429, "No quota", code="insufficient_quota", times=3),
        "failed",
        "quota",
        "This key has run out of quota (429)",
    ),
    "500": Fault(
        err(500, "boom", type_="server_error", times=3),
        "failed",
        "server",
        "The API had an error (500) after retrying",
    ),
    "503": Fault(
        err(503, "overloaded", type_="server_error", times=3),
        "failed",
        "server",
        "The API had an error (503) after retrying",
    ),
    "connect_timeout": Fault(
        None, "failed", "timeout", "The API did not answer in time", timeout=SHORT_CONNECT, black_hole=True
    ),
    "read_timeout_mid_stream": Fault(
        {"chunks": ["Slow", " start", " never ends"], "gap": 3},
        "incomplete",
        "timeout",
        "The API did not answer in time",
        partial="Slow",
        timeout=SHORT_READ,
    ),
    "cut_mid_reply": Fault(
        {"chunks": ["Par", "tial", " more"], "cut_after": 2},
        "incomplete",
        "cut",
        "The connection dropped in the middle of the reply",
        partial="Partial",
    ),
    "error_event": Fault(
        {"chunks": ["Par", "tial"], "error_event_after": 1},
        "failed",
        "stream_error",
        "The API reported an error: The server had an error.",
        partial="Par",
    ),
    "response_failed": Fault(
        {"chunks": ["Par", "tial"], "fail_after": 1},
        "failed",
        "response_failed",
        "The model could not finish the reply: The model failed to generate a reply.",
        partial="Par",
    ),
    "response_incomplete": Fault(
        {"chunks": ["Par", "tial"], "incomplete_after": 1},
        "incomplete",
        "incomplete",
        "The reply was cut short (max_output_tokens)",
        partial="Par",
    ),
    "malformed_sse": Fault(
        {"chunks": ["a", "b"], "malformed_after": 1},
        "incomplete",
        "malformed",
        "The API sent a reply the app could not read (malformed stream)",
        partial="a",
    ),
    # Not a fault: 24 chunks 0.2 s apart take ~5 s, far beyond the 0.6 s read timeout. It must complete.
    "slow_trickle": Fault({"chunks": TRICKLE, "gap": 0.2}, "completed", None, None, timeout=SHORT_READ),
}


@contextlib.contextmanager
def black_hole() -> Iterator[str]:
    """A base URL whose port listens but never completes a handshake: a real connect timeout.

    With a backlog of 0 the accept queue holds one connection; once it is full Linux drops further
    SYNs (the client retransmits and waits), so connect() hangs instead of being refused.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    try:
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(address)
            fillers.append(s)
        time.sleep(0.1)
        probe_started = time.monotonic()
        with pytest.raises(TimeoutError):  # prove the hole before trusting the test built on it
            socket.create_connection(address, timeout=0.3).close()
        assert time.monotonic() - probe_started >= 0.25
        yield f"http://{address[0]}:{address[1]}/v1"
    finally:
        for s in fillers:
            s.close()
        listener.close()


def assert_one_clear_sentence(message: str | None, fragment: str) -> None:
    assert message, "the user was told nothing"
    assert fragment.lower() in message.lower(), message
    assert "\n" not in message and len(message) < 300, f"not one short sentence: {message!r}"
    for noise in ("Traceback", "Error code:", "{'", '{"'):
        assert noise not in message, f"raw error shown to the user: {message!r}"
    assert TEST_KEY not in message


def item_texts(upstream, conversation_id: str) -> list[str]:
    """The upstream conversation as text, oldest first: what the model will see on the next turn."""
    out = []
    for item in upstream.items(conversation_id):
        assert item["type"] == "message", item
        out.append("".join(part.get("text", "") for part in item["content"]))
    return out


# -- the engine ---------------------------------------------------------------------------------


def run(store, backend, thread_id, version, text) -> tuple[turn.Turn, list]:
    t = turn.start(store, backend, thread_id, version, text, secrets=(TEST_KEY,))
    events = list(t.events())
    assert isinstance(events[-1], TurnDone) and events[-1] is t.result
    return t, events


@pytest.mark.parametrize("name", FAULTS, ids=list(FAULTS))
def test_engine_fault(name, store, backend, upstream, thread, version, monkeypatch):
    fault = FAULTS[name]
    warm, _ = run(store, backend, thread.id, version, "warm-up")
    assert warm.result.status == "completed"
    conversation = store.get_thread(thread.id).conversation_id

    with contextlib.ExitStack() as stack:
        base_url = upstream.base_url
        if fault.timeout is not None:
            monkeypatch.setattr(settings, "REQUEST_TIMEOUT", fault.timeout)
        if fault.black_hole:
            base_url = stack.enter_context(black_hole())
        if fault.gone:
            backend.client.conversations.delete(conversation)
        if fault.script:
            upstream.script(fault.script)
        # A client built the way the app builds one (make_client reads settings.REQUEST_TIMEOUT).
        faulty = ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), base_url))
        began = time.monotonic()
        t, events = run(store, faulty, thread.id, version, "the question")
        took = time.monotonic() - began
    monkeypatch.undo()
    done = t.result

    # What the user is told: one sentence, or nothing at all when the reply completed.
    assert done.status == fault.status, done.problem
    if fault.kind is None:
        assert done.problem is None
        assert done.text == "".join(TRICKLE) and len([e for e in events if isinstance(e, TextDelta)]) == len(TRICKLE)
        assert took > 3 * SHORT_READ.read, "the trickle should outlast the read timeout, or it proves nothing"
    else:
        assert done.problem.kind == fault.kind
        assert_one_clear_sentence(done.problem.message, fault.sentence)
        assert done.text == fault.partial
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == fault.partial

    # What the log keeps: the question once, the run with its status and kind, the partial reply.
    run_row = store.get_run(done.run_id)
    assert (run_row.status, run_row.problem) == (fault.status, fault.kind)
    assert run_row.error == (done.problem.message if done.problem else None) and run_row.finished_at
    messages = store.list_messages(thread.id)
    question = [m for m in messages if m.role == "user"][-1]
    assert (question.content, question.run_id) == ("the question", done.run_id)
    if fault.kind is None:
        assert [(m.role, m.content, m.status) for m in messages][-1] == ("assistant", "".join(TRICKLE), "complete")
    else:
        assert (question.status, question.problem, question.error) == ("failed", fault.kind, done.problem.message)
        replies = [m for m in messages if m.role == "assistant" and m.run_id == done.run_id]
        expected = [(fault.partial, "incomplete")] if fault.partial else []
        assert [(m.content, m.status) for m in replies] == expected

    # The app stays usable and nothing is lost or doubled, in the log or upstream.
    if fault.gone:
        # No retry into a conversation that does not exist: the question stays, a new thread works.
        fresh = store.create_thread(version.assistant_id)
        after, _ = run(store, backend, fresh.id, version, "after")
        assert after.result.status == "completed"
        assert [m.content for m in store.list_messages(thread.id) if m.role == "user"] == ["warm-up", "the question"]
        return
    if fault.kind is not None:
        again = turn.retry(store, backend, question.id, version, secrets=(TEST_KEY,))
        list(again.events())
        assert again.result.status == "completed" and again.result.text == "Echo: the question"
        assert again.user_message_id == question.id
    after, _ = run(store, backend, thread.id, version, "after")
    assert after.result.status == "completed"
    users = [(m.content, m.status) for m in store.list_messages(thread.id) if m.role == "user"]
    assert users == [("warm-up", "complete"), ("the question", "complete"), ("after", "complete")]
    answer = "".join(TRICKLE) if fault.kind is None else "Echo: the question"
    assert item_texts(upstream, conversation) == ["warm-up", "Echo: warm-up", "the question", answer, *AFTER]


# -- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FAULTS, ids=list(FAULTS))
def test_page_fault(name, app, log, upstream, monkeypatch):
    fault = FAULTS[name]
    create(app)
    app.chat_input[0].set_value("warm-up").run()
    assert chat_texts(app) == ["warm-up", "Echo: warm-up"]
    [assistant] = log.list_assistants()
    [thread] = log.list_threads(assistant["id"])
    conversation = thread.conversation_id

    with contextlib.ExitStack() as stack, monkeypatch.context() as patch:
        if fault.timeout is not None:
            patch.setattr(settings, "REQUEST_TIMEOUT", fault.timeout)
        if fault.black_hole:
            patch.setattr(settings, "QUICK_TIMEOUT", SHORT_CONNECT)  # the model list tries the hole too
            patch.setenv("OPENAI_BASE_URL", stack.enter_context(black_hole()))
        if fault.gone:
            direct = make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url)
            direct.conversations.delete(conversation)
        if fault.script:
            upstream.script(fault.script)
        app.chat_input[0].set_value("the question").run()
    assert not app.exception, app.exception

    # One sentence on screen (or none when the reply completed), never the key.
    errors = texts(app, "error")
    if fault.kind is None:
        assert errors == []
        assert chat_texts(app) == ["warm-up", "Echo: warm-up", "the question", "".join(TRICKLE)]
    else:
        assert len(errors) == 1, errors
        assert_one_clear_sentence(errors[0], fault.sentence)
        # The question stays on screen, and what arrived of the reply with it.
        kept = [fault.partial] if fault.partial else []
        assert chat_texts(app) == ["warm-up", "Echo: warm-up", "the question", *kept]
    runs = log.list_runs(thread.id)
    assert [(r.status, r.problem) for r in runs] == [("completed", None), (fault.status, fault.kind)]
    question = [m for m in log.list_messages(thread.id) if m.role == "user"][-1]
    assert question.content == "the question" and question.problem == fault.kind

    if fault.gone:
        # Retrying into a deleted conversation cannot work: the page offers a new thread instead.
        assert app.button(key="gone_new_thread") is not None
        assert not [b for b in app.button if b.key == "retry"]
        app.button(key="gone_new_thread").click().run()
        app.chat_input[0].set_value("after").run()
        assert chat_texts(app) == ["after", "Echo: after"] and not texts(app, "error")
        old = [m.content for m in log.list_messages(thread.id) if m.role == "user"]
        assert old == ["warm-up", "the question"]  # still in the log, readable in Conversations
        return
    if fault.kind is not None:
        app.button(key="retry").click().run()
        assert not app.exception, app.exception
        kept = [fault.partial] if fault.partial else []
        assert chat_texts(app)[2:] == ["the question", *kept, "Echo: the question"]
    app.chat_input[0].set_value("after").run()
    assert not app.exception, app.exception
    answer = "".join(TRICKLE) if fault.kind is None else "Echo: the question"
    # The partial reply stays in the chat, marked incomplete, above the retried answer (kept, by design).
    kept = [fault.partial] if fault.partial else []
    assert chat_texts(app) == ["warm-up", "Echo: warm-up", "the question", *kept, answer, "after", "Echo: after"]
    assert [m.content for m in log.list_messages(thread.id) if m.role == "user"] == ["warm-up", "the question", "after"]
    assert item_texts(upstream, conversation) == ["warm-up", "Echo: warm-up", "the question", answer, *AFTER]
    assert [r.status for r in log.list_runs(thread.id)][-2:] == ["completed", "completed"]
    assert not texts(app, "error"), (
        "after a successful Retry the superseded attempt's error must not stay under its kept partial reply "
        "(app_pages/_chat.py history), telling the user to retry what already succeeded"
    )
