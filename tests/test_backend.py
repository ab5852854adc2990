"""The backend interface is the turn engine's only view of upstream: another API can sit behind it.

A backend shapes a turn's request and streams neutral events (Created, Delta, Call, Finished,
StreamError). This test drives whole turns through a backend that knows nothing of the OpenAI
SDK, as a Chat-Completions or Assistants-v2 backend would, without touching the engine or pages.
"""

from __future__ import annotations

from playground import turn
from playground.backend import Call, Created, Delta, Finished, StreamError
from tests.conftest import ScriptedBackend


def finished(text: str, status: str = "completed", reason: str | None = None) -> Finished:
    usage = {"input_tokens": 3, "output_tokens": len(text.split()), "total_tokens": 3 + len(text.split())}
    return Finished(status, "r1", usage, "item-1", '{"id": "r1"}', reason)


def test_a_turn_runs_on_any_backend_that_speaks_the_neutral_events(store, version, thread):
    backend = ScriptedBackend([Created("r1"), Delta("Hello"), Delta(" there"), finished("Hello there")])
    t = turn.start(store, backend, thread.id, version, "Hi")
    assert "".join(t.text_deltas()) == "Hello there"
    assert t.result.status == "completed" and t.result.usage["total_tokens"] == 5
    run = store.get_run(t.run_id)
    assert (run.status, run.request_id, run.response_id, run.input_tokens) == ("completed", "local-request", "r1", 3)
    assert backend.sent == [{"model": "gpt-4.1-mini", "thread": "local-1", "text": "Hi", "outputs": {}}]
    assert [m.content for m in store.list_messages(thread.id)] == ["Hi", "Hello there"]


def test_calls_errors_and_cut_reasons_come_through_the_same_events(store, version, thread):
    calls = ScriptedBackend([Created("r1"), Call("c1", "lookup", "{}"), finished("")])
    t = turn.start(store, calls, thread.id, version, "Look it up")
    list(t.events())
    assert t.result.status == "requires_action" and [c.name for c in store.tool_calls(t.run_id)] == ["lookup"]

    failing = ScriptedBackend([Created("r2"), Delta("Par"), StreamError("overloaded")])
    other = store.create_thread(version.assistant_id)
    t = turn.start(store, failing, other.id, version, "Go")
    list(t.events())
    assert (t.result.status, t.result.text) == ("failed", "Par")
    assert t.result.problem.message == "The API reported an error: overloaded"
    assert store.list_messages(other.id)[-1].status == "incomplete"  # what arrived is kept

    short = ScriptedBackend([Created("r3"), Delta("Cut"), finished("Cut", "incomplete", "max_output_tokens")])
    third = store.create_thread(version.assistant_id)
    t = turn.start(store, short, third.id, version, "Long answer please")
    list(t.events())
    assert t.result.status == "incomplete" and "max output tokens" in t.result.problem.message


def test_a_backend_without_conversations_gets_the_thread_from_the_log(store, version, thread):
    log_kept = ScriptedBackend(
        [Created("r1"), Delta("One"), finished("One")], [Created("r2"), Delta("Two"), finished("Two")], way="chat"
    )
    for text in ("first", "second"):
        t = turn.start(store, log_kept, thread.id, version, text)
        list(t.events())
    assert log_kept.conversations == 0 and store.get_thread(thread.id).api == "chat"
    assert log_kept.sent[-1]["history"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "One"},
        {"role": "user", "content": "second"},
    ]
