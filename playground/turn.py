"""A turn: one user message, one streamed Responses call, logged as a run.

The user's message and the run are written before any request is made, and the turn is closed in
the log however it ends (completed, refused, cut, stopped, or the page going away), so nothing a
user typed or received is lost. A retry reuses the same message row, so it is never duplicated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from playground import request as request_map
from playground.backend import Backend, StreamHandle
from playground.client import redact
from playground.errors import Problem, describe
from playground.store import Store, Thread, Version


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass
class TurnDone:
    status: str  # completed | incomplete | failed | cancelled
    run_id: int
    user_message_id: int
    reply_id: int | None
    text: str
    usage: dict[str, int] = field(default_factory=dict)
    problem: Problem | None = None


TurnEvent = TextDelta | ToolCall | TurnDone


class _Cancelled(Exception):
    pass


class Turn:
    """Iterate `events()` (or `text_deltas()` for st.write_stream); `result` holds the outcome."""

    def __init__(
        self,
        store: Store,
        backend: Backend,
        thread: Thread,
        version: Version,
        user_message_id: int,
        text: str,
        *,
        forget_after: str | None = None,
        forget_all: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.backend = backend
        self.thread = thread
        self.version = version
        self.user_message_id = user_message_id
        self.text = text
        self.secrets = secrets
        self.result: TurnDone | None = None
        self.tool_calls: list[ToolCall] = []
        self.requests = 0  # upstream HTTP requests this turn made (before SDK retries)
        self._forget_after = forget_after
        self._forget_all = forget_all
        self._cancelled = False
        self._handle: StreamHandle | None = None
        self._generator: Iterator[TurnEvent] | None = None
        # Written now, before anything can fail: the run exists even if the process dies next.
        self.run_id = store.start_run(thread.id, version.id, user_message_id, version.config.model)
        with store.write() as db:
            db.conn.execute("UPDATE messages SET run_id = ? WHERE id = ?", (self.run_id, user_message_id))

    # -- public -------------------------------------------------------------------------------

    def events(self) -> Iterator[TurnEvent]:
        if self._generator is None:
            self._generator = self._run()
        return self._generator

    def text_deltas(self) -> Iterator[str]:
        """Only the reply's text, for st.write_stream; tool calls and the outcome land in `result`."""
        for event in self.events():
            if isinstance(event, TextDelta):
                yield event.text
            elif isinstance(event, ToolCall):
                self.tool_calls.append(event)

    def cancel(self) -> None:
        """Stop the reply: the stream is closed, the partial text is kept and marked incomplete."""
        self._cancelled = True
        if self._handle is not None:
            self._handle.close()

    def close(self) -> None:
        """Settle the turn in the log if its consumer went away mid-stream (e.g. a rerun)."""
        if self._generator is not None:
            self._generator.close()
        elif self.result is None:
            self._cancelled = True
            for _ in self.events():
                pass

    # -- the turn -----------------------------------------------------------------------------

    def _run(self) -> Iterator[TurnEvent]:
        started = time.perf_counter()
        parts: list[str] = []
        usage: dict[str, int] = {}
        outcome: dict[str, Any] = {"status": "failed", "problem": None, "accepted": False}
        ttft_ms: float | None = None
        fields: dict[str, Any] = {}
        try:
            if self._cancelled:
                raise _Cancelled
            conversation_id = self._conversation()
            body = request_map.build(
                self.version.config,
                input=request_map.user_message(self.text),
                conversation_id=conversation_id,
            )
            fields["request"] = json.dumps(body, ensure_ascii=False)
            self.requests += 1
            self._handle = self.backend.stream(body)
            fields["request_id"] = self._handle.request_id
            for event in self._handle.events:
                if self._cancelled:
                    outcome["status"] = "cancelled"
                    break
                kind = getattr(event, "type", None)
                if kind in ("response.output_text.delta", "response.refusal.delta"):
                    if ttft_ms is None:
                        ttft_ms = (time.perf_counter() - started) * 1000
                    parts.append(event.delta)
                    yield TextDelta(event.delta)
                elif kind == "response.created":
                    outcome["accepted"] = True
                    fields["response_id"] = event.response.id
                elif kind == "response.output_item.done" and event.item.type == "function_call":
                    item = event.item
                    yield ToolCall(item.call_id, item.name, item.arguments)
                elif kind in ("response.completed", "response.incomplete", "response.failed"):
                    self._finish_response(event.response, outcome, usage, fields)
                elif kind == "error":
                    # The SDK does not raise on a stream's `error` event (openai-python #2487).
                    outcome["status"] = "failed"
                    outcome["problem"] = Problem("stream_error", f"The API reported an error: {event.message}")
                    break
            else:
                if outcome["problem"] is None and outcome["status"] == "failed" and not fields.get("response"):
                    outcome["status"] = "incomplete"
                    outcome["problem"] = Problem("cut", "The reply stopped before it was complete. Retry.")
        except GeneratorExit:
            outcome["status"] = "cancelled"
            raise
        except _Cancelled:
            outcome["status"] = "cancelled"
        except Exception as exc:  # every failure is logged and shown; nothing escapes as a traceback
            outcome["status"] = "incomplete" if parts else "failed"
            outcome["problem"] = describe(exc)
            fields.setdefault("request_id", getattr(exc, "request_id", None))
        finally:
            if self._handle is not None:
                self._handle.close()
            done = self._settle(parts, usage, outcome, fields, ttft_ms, started)
        yield done

    def _conversation(self) -> str:
        thread = self.thread
        if thread.conversation_id and self._forget_all:
            # The first turn failed after upstream took it: start the conversation afresh.
            thread.conversation_id = None
        if thread.conversation_id is None:
            self.requests += 1
            thread.conversation_id = self.backend.create_conversation({"thread": str(thread.id)})
            self.store.set_conversation(thread.id, thread.conversation_id)
        elif self._forget_after:
            self._forget_failed_attempt(thread.conversation_id, self._forget_after)
        return thread.conversation_id

    def _forget_failed_attempt(self, conversation_id: str, keep_through: str) -> None:
        """Remove a failed attempt's items upstream, so a retry does not send the message twice.

        Items newer than the last item of the last completed turn belong to the failed attempt.
        If that item is not among the recent ones, nothing is deleted: better a repeat than a loss.
        """
        self.requests += 1
        items = self.backend.recent_items(conversation_id, limit=20)
        stale: list[str] = []
        for item in items:  # newest first
            if item.id == keep_through:
                break
            stale.append(item.id)
        else:
            return
        if stale:
            self.requests += len(stale)
            self.backend.delete_conversation_items(conversation_id, stale)

    @staticmethod
    def _finish_response(response: Any, outcome: dict[str, Any], usage: dict[str, int], fields: dict) -> None:
        outcome["accepted"] = True
        fields["response_id"] = response.id
        if response.output:
            fields["last_item_id"] = response.output[-1].id
        if response.usage is not None:
            usage.update(
                input_tokens=response.usage.input_tokens,
                output_tokens=response.usage.output_tokens,
                total_tokens=response.usage.total_tokens,
            )
        fields["response"] = response.model_dump_json(exclude_none=True)
        if response.status == "completed":
            outcome["status"] = "completed"
        elif response.status == "incomplete":
            reason = getattr(response.incomplete_details, "reason", None) or "unknown"
            outcome["status"] = "incomplete"
            hint = " Raise max output tokens to allow longer replies." if reason == "max_output_tokens" else ""
            outcome["problem"] = Problem("incomplete", f"The reply was cut short ({reason}).{hint}")
        else:
            error = response.error
            message = getattr(error, "message", None) or "no reason given"
            outcome["status"] = "failed"
            outcome["problem"] = Problem("response_failed", f"The model could not finish the reply: {message}")

    def _settle(
        self,
        parts: list[str],
        usage: dict[str, int],
        outcome: dict[str, Any],
        fields: dict[str, Any],
        ttft_ms: float | None,
        started: float,
    ) -> TurnDone:
        status = outcome["status"]
        problem: Problem | None = outcome["problem"]
        if problem is not None and self.secrets:
            problem = Problem(
                problem.kind, redact(problem.message, *self.secrets), problem.retryable, problem.thread_gone
            )
        if status == "cancelled" and problem is None:
            problem = Problem("cancelled", "Stopped. The partial reply is kept.")
        text = "".join(parts)
        reply_status = {"completed": "complete"}.get(status, "incomplete" if text else "failed")
        reply = text or None  # a reply of only tool calls has no text to show as a message
        reply_id = self.store.finish_turn(
            self.run_id,
            user_message_id=self.user_message_id,
            user_status="complete" if status == "completed" else "failed",
            reply=reply,
            reply_status=reply_status,
            thread_id=self.thread.id,
            version_id=self.version.id,
            status=status,
            error=problem.message if problem else None,
            ttft_ms=ttft_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
            **usage,
            **{k: v for k, v in fields.items() if v is not None},
        )
        self.result = TurnDone(status, self.run_id, self.user_message_id, reply_id, text, usage, problem)
        return self.result


def start(
    store: Store,
    backend: Backend,
    thread_id: int,
    version: Version,
    text: str,
    secrets: tuple[str, ...] = (),
) -> Turn:
    """Log the user's message, then return the turn ready to stream. Raises ValueError on empty text."""
    if not text.strip():
        raise ValueError("Type a message first.")
    thread = store.get_thread(thread_id)
    if thread is None:
        raise LookupError(f"No thread {thread_id}.")
    message_id = store.add_message(thread.id, "user", text, version_id=version.id, status="incomplete")
    return Turn(store, backend, thread, version, message_id, text, secrets=secrets)


def retry(
    store: Store, backend: Backend, user_message_id: int, version: Version, secrets: tuple[str, ...] = ()
) -> Turn:
    """Send a failed message again, reusing its row; upstream leftovers of the failed try are removed."""
    message = store.get_message(user_message_id)
    if message is None or message.role != "user":
        raise LookupError(f"No user message {user_message_id}.")
    if message.status == "complete":
        raise ValueError("That message was answered; send a new one instead.")
    thread = store.get_thread(message.thread_id)
    assert thread is not None
    runs = store.list_runs(thread.id)
    failed = [r for r in runs if r.user_message_id == user_message_id]
    accepted_before = any(r.response_id for r in failed)
    completed = [r for r in runs if r.status == "completed" and r.last_item_id]
    forget_after = completed[-1].last_item_id if (accepted_before and completed) else None
    forget_all = accepted_before and not completed
    store.set_message_status(user_message_id, "incomplete")
    return Turn(
        store,
        backend,
        thread,
        version,
        user_message_id,
        message.content,
        forget_after=forget_after,
        forget_all=forget_all,
        secrets=secrets,
    )
