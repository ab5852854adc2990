"""The backend interface is the turn engine's only view of upstream: another API can sit behind it.

A backend shapes a turn's request and streams neutral events (Created, Delta, Call, Finished,
StreamError). This test drives whole turns through a backend that knows nothing of the OpenAI
SDK, as a Chat-Completions or Assistants-v2 backend would, without touching the engine or pages.
"""

from __future__ import annotations

from typing import Any

from playground import turn
from playground.assistant import AssistantConfig
from playground.backend import Call, Created, Delta, Finished, StreamError, StreamHandle


class ScriptedBackend:
    """Replies from a script, keeping the history itself (as a backend without Conversations would)."""

    def __init__(self, *scripts: list[Any]) -> None:
        self.scripts = list(scripts)
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.sent: list[dict[str, Any]] = []

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str:
        conversation_id = f"local-{len(self.history) + 1}"
        self.history[conversation_id] = []
        return conversation_id

    def request(self, config: AssistantConfig, conversation_id: str, *, text=None, outputs=None) -> dict[str, Any]:
        return {"model": config.model, "thread": conversation_id, "text": text, "outputs": outputs}

    def stream(self, request: dict[str, Any]) -> StreamHandle:
        self.sent.append(request)
        return StreamHandle(iter(self.scripts.pop(0)), request_id="local-request")


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
