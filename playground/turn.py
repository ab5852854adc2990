"""A turn: one user message, one streamed Responses call, logged as a run.

The user's message and the run are written before any request is made, and the turn is closed in
the log however it ends (completed, refused, cut, stopped, or the page going away), so nothing a
user typed or received is lost. A retry reuses the same message row, so it is never duplicated.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import traceback
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

import openai

from playground import chat, placed, provider, trace
from playground.assistant import fill
from playground.backend import Backend, Call, Created, Delta, Finished, Runner, StreamError, StreamHandle
from playground.client import redact
from playground.errors import LogError, Problem, describe, say
from playground.settings import CHECKPOINT_EVERY_S
from playground.store import Store, Thread, ToolCallRow, Version
from playground.tools import HANDLERS, check_arguments, run_handler

logger = logging.getLogger(__name__)


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolCall:
    call_id: str
    name: str
    arguments: str


@dataclass
class Waiting:
    """Nothing arrived for a while (only with a heartbeat): a chance for the page to breathe."""


@dataclass
class TurnDone:
    status: str  # completed | requires_action | incomplete | failed | cancelled
    run_id: int
    user_message_id: int
    reply_id: int | None
    text: str
    usage: dict[str, int] = field(default_factory=dict)
    problem: Problem | None = None


TurnEvent = TextDelta | ToolCall | Waiting | TurnDone

# How often a waiting consumer looks at the cancel flag when it asked for no heartbeat.
_POLL_S = 0.1


class _Cancelled(Exception):
    pass


class Turn:
    """Iterate `events()` (or `text_deltas()` for st.write_stream); `result` holds the outcome.

    Everything upstream (creating the conversation, opening the stream, reading it) runs on a
    reader thread that feeds a queue; the consumer, on the caller's thread, writes the log. So
    `cancel()` ends the turn at once even while the model is still thinking before its first
    token, and a heartbeat lets a page act on a Stop click between tokens.
    """

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
        outputs: dict[str, tuple[str, str]] | None = None,
        continues_run: int | None = None,
        secrets: tuple[str, ...] = (),
        run_id: int | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.backend: Runner = backend  # the Chat Completions way once `_way_and_conversation` settles on it
        # The deployment's spending meter (limits.Meter) when it pays for this backend; kept across the
        # switch to the Chat Completions way, which makes a new backend.
        self.meter = getattr(backend, "meter", None)
        self._charges: list[int] = []
        self.thread = thread
        self.version = version
        self.user_message_id = user_message_id
        self.text = text  # as logged: its variables were filled in by `start`
        # The declared variables' values for the instructions: the defaults, or those given (a test case's).
        self.values = version.config.values(variables)
        self.secrets = secrets
        self.result: TurnDone | None = None
        self.tool_calls: list[ToolCall] = []
        self.requests = 0  # upstream HTTP requests this turn made (before SDK retries)
        self.outputs = outputs or {}
        self.continues_run = continues_run
        self._forget_after = forget_after
        self._forget_all = forget_all
        self._cancelled = threading.Event()
        self._started = False
        self._handle: StreamHandle | None = None
        self._generator: Generator[TurnEvent, None, None] | None = None
        # Written now, before anything can fail: the run exists even if the process dies next.
        # A new attempt at the message (not a continuation after function outputs) is what its errors
        # and Retry point at.
        if run_id is None:
            run_id = store.start_run(
                thread.id, version.id, user_message_id, version.config.model, attempt=continues_run is None
            )
        self.run_id = run_id  # given when the run was written with its message (`start`)

    # -- public -------------------------------------------------------------------------------

    def events(self, heartbeat: float | None = None) -> Iterator[TurnEvent]:
        """The turn's events; with `heartbeat`, a `Waiting` after each that many quiet seconds."""
        if self._generator is None:
            self._generator = self._run(heartbeat)
        return self._generator

    def text_deltas(self, heartbeat: float | None = None) -> Iterator[str]:
        """Only the reply's text, for st.write_stream ("" on a heartbeat); the rest lands in `result`."""
        for event in self.events(heartbeat):
            if isinstance(event, TextDelta):
                yield event.text
            elif isinstance(event, Waiting):
                yield ""

    def cancel(self) -> None:
        """Stop the reply, from any thread: the partial text is kept and the turn marked cancelled."""
        self._cancelled.set()
        handle = self._handle
        if handle is not None:
            handle.close()

    def close(self) -> None:
        """Settle the turn in the log if its consumer went away mid-stream (e.g. a rerun)."""
        if self.result is not None:
            return
        self._cancelled.set()
        if self._generator is not None and self._started:
            self._generator.close()  # raises GeneratorExit at the paused yield; `finally` settles
        else:
            # Never started: closing an unstarted generator would skip its `finally`, so run it
            # to the end as a cancelled turn instead.
            self._generator = self._run(None)
            for _ in self._generator:
                pass

    # -- the turn -----------------------------------------------------------------------------

    def _run(self, heartbeat: float | None) -> Generator[TurnEvent, None, None]:
        self._started = True
        # Renewed on a timer for as long as this runs (a model may think for minutes without a token),
        # so no process's sweep takes the run for one whose process died; released once it has settled.
        self.store.hold_lease(self.run_id)
        started = time.perf_counter()
        parts: list[str] = []
        usage: dict[str, int] = {}
        outcome: dict[str, Any] = {"status": "failed", "problem": None, "accepted": False}
        ttft_ms: float | None = None
        checkpointed = started
        fields: dict[str, Any] = {}
        inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        try:
            if self._cancelled.is_set():
                raise _Cancelled
            threading.Thread(target=self._read_upstream, args=(inbox,), daemon=True, name="turn-upstream").start()
            while True:
                try:
                    kind, value = inbox.get(timeout=heartbeat or _POLL_S)
                except queue.Empty:
                    if self._cancelled.is_set():
                        raise _Cancelled from None
                    if heartbeat:
                        yield Waiting()
                    continue
                if self._cancelled.is_set():
                    raise _Cancelled
                if kind == "request":
                    fields["request"] = value
                elif kind == "opened":
                    fields["request_id"] = value
                elif kind == "dropped":
                    fields["dropped_turns"] = value
                elif kind == "failed":
                    raise value
                elif kind == "end":
                    break
                elif isinstance(value, Delta):
                    if ttft_ms is None:
                        ttft_ms = (time.perf_counter() - started) * 1000
                    parts.append(value.text)
                    if time.perf_counter() - checkpointed >= CHECKPOINT_EVERY_S:
                        self.store.checkpoint(self.run_id, "".join(parts))
                        checkpointed = time.perf_counter()
                    yield TextDelta(value.text)
                elif isinstance(value, Created):
                    outcome["accepted"] = True
                    fields["response_id"] = value.response_id
                elif isinstance(value, Call):
                    call = ToolCall(value.call_id, value.name, value.arguments)
                    self.tool_calls.append(call)
                    yield call
                elif isinstance(value, Finished):
                    self._finish_response(value, outcome, usage, fields)
                elif isinstance(value, StreamError):
                    outcome["status"] = "failed"
                    outcome["problem"] = Problem("stream_error", f"The API reported an error: {value.message}")
                    break
            if outcome["problem"] is None and outcome["status"] == "failed" and not fields.get("response"):
                outcome["status"] = "incomplete"
                outcome["problem"] = Problem("cut", "The reply stopped before it was complete. Retry.")
            if outcome["status"] == "completed":
                self._keep_generated_files(fields.get("response"))
        except GeneratorExit:
            outcome["status"] = "cancelled"
            raise
        except _Cancelled:
            outcome["status"] = "cancelled"
        except Exception as exc:  # every failure is logged and shown; nothing escapes as a traceback
            if self._cancelled.is_set():  # closing the stream from cancel() surfaces as a read error
                outcome["status"] = "cancelled"
            else:
                outcome["status"] = "incomplete" if parts else "failed"
                outcome["problem"] = self._problem(exc, midway=outcome["accepted"] or bool(parts))
                fields.setdefault("request_id", getattr(exc, "request_id", None))
        finally:
            self._cancelled.set()  # the reader stops at its next event, whatever ended the turn
            if self._handle is not None:
                self._handle.close()
            try:
                done = self._settle(parts, usage, outcome, fields, ttft_ms, started)
            finally:
                self.store.release_lease(self.run_id)
                refused = outcome["status"] == "failed" and not outcome["accepted"] and not parts and not usage
                self._settle_charge(usage, refused=refused)
        yield done

    def _read_upstream(self, inbox: queue.SimpleQueue) -> None:
        """On the reader thread: every upstream request of the turn, each event into `inbox`."""
        try:
            conversation_id = self._way_and_conversation()
            outputs = {call_id: output for call_id, (output, _source) in self.outputs.items()}
            history = None
            if not self.backend.capabilities.keeps_history:
                history = chat.history(self.store, self.thread.id, self.user_message_id)
            else:  # upstream keeps the thread: only messages placed since its last turn go with this one
                history = placed.input_items(placed.not_carried(self.store, self.thread.id, self.user_message_id))
                history = history or None
            config = self.version.config.filled(self.values)  # the instructions as sent, variables filled in
            body = self.backend.request(config, conversation_id, text=self.text, outputs=outputs, history=history)
            inbox.put(("request", json.dumps(body, ensure_ascii=False)))
            if self._cancelled.is_set():
                return
            self.requests += 1
            try:
                self._handle = self._stream(body)
            except openai.BadRequestError as exc:
                # A thread too long for the model's context: leave out its oldest turns and try once more.
                if history is None or not chat.context_full(exc):
                    raise
                history, dropped = chat.trim(history, exc)
                if not dropped:
                    raise
                self._settle_charge({}, refused=True)  # the first try was refused: it used nothing
                body = self.backend.request(config, conversation_id, text=self.text, outputs=outputs, history=history)
                inbox.put(("request", json.dumps(body, ensure_ascii=False)))
                inbox.put(("dropped", dropped))
                self.requests += 1
                self._handle = self._stream(body)
            inbox.put(("opened", self._handle.request_id))
            if self._cancelled.is_set():  # cancelled while the request was on its way
                self._handle.close()
                return
            for event in self._handle.events:
                inbox.put(("event", event))
                if self._cancelled.is_set():
                    return
            inbox.put(("end", None))
        except BaseException as exc:  # handed to the consumer, which logs and words it
            inbox.put(("failed", exc))

    def _stream(self, body: dict[str, Any]) -> StreamHandle:
        """Send the request; one the deployment pays for is counted first (LimitReached when a limit
        would be passed: then nothing is sent)."""
        if self.meter is not None:
            self._charges.append(self.meter.charge(body, self.version.config.model))
        return self.backend.stream(body)

    def _settle_charge(self, reported: dict[str, int], *, refused: bool = False) -> None:
        """Put the usage the server reported in place of the last request's estimate; take the request
        back when upstream `refused` it before doing anything (a 429, a 400: a retry must not count
        twice). Otherwise (cut, cancelled, no usage reported) the estimate stays counted."""
        if self.meter is None or not self._charges:
            return
        charge = self._charges.pop()
        try:
            if refused:
                self.meter.uncharge(charge)
            else:
                self.meter.settle(charge, self.version.config.model, reported)
        except LogError as exc:  # the estimate stays counted: over, never under
            logger.warning("could not settle a request's spending: %s", exc.problem.message)

    def _problem(self, exc: Exception, *, midway: bool) -> Problem:
        problem = describe(exc)
        if midway and problem.kind == "connection":
            return Problem("cut", "The connection dropped in the middle of the reply; what arrived is kept. Retry.")
        if problem.kind in ("internal", "malformed"):
            # A bug or an unreadable stream: the user gets one sentence, the operator the details.
            detail = redact("".join(traceback.format_exception(exc)), *self.secrets)
            logger.error("turn of run %s ended by %s\n%s", self.run_id, type(exc).__name__, detail)
        return problem

    def _way_and_conversation(self) -> str:
        """Settle which way this thread runs (it keeps the way of its first turn), refuse what that way
        cannot do, and return the upstream conversation ("" where the log keeps the history)."""
        thread = self.thread
        if thread.api == "chat" and self.backend.capabilities.keeps_history:
            self.backend = chat.ChatBackend(self.backend.client)  # OpenAI speaks Chat Completions too
        elif thread.api == "conversations" and not self.backend.capabilities.keeps_history:
            raise provider.WayMismatch(
                "This thread keeps its history in an OpenAI Conversation, which this server does not have: "
                "start a new thread to chat here."
            )
        self._refuse_hosted_tools()
        conversation_id = ""
        if self.backend.capabilities.keeps_history:
            try:
                conversation_id = self._conversation()
            except provider.NoConversations:
                self.backend = chat.ChatBackend(self.backend.client)
                self._refuse_hosted_tools()
        if thread.api is None:
            thread.api = self.backend.way
            self.store.set_thread_api(thread.id, thread.api)
        return conversation_id

    def _refuse_hosted_tools(self) -> None:
        if refused := self.backend.capabilities.refusal_for(self.version.config):
            raise provider.WayMismatch(refused)

    @property
    def _responses(self) -> Backend:
        """`backend` as the Responses way, for what only that way does (conversations, hosted files)."""
        # Called only where upstream keeps the history or made files, which only the Responses way does;
        # mypy cannot follow that from `capabilities` to the class.
        return cast(Backend, self.backend)

    def _conversation(self) -> str:
        thread = self.thread
        if thread.conversation_id and self._forget_all:
            # The first turn failed after upstream took it: start the conversation afresh.
            thread.conversation_id = None
        if thread.conversation_id is None:
            self.requests += 1
            thread.conversation_id = self._responses.create_conversation({"thread": str(thread.id)})
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
        # The failed attempt also carried the messages placed since the last turn: look that much further
        # back (the API lists at most 100 items a page).
        window = 20 + len(placed.not_carried(self.store, self.thread.id, self.user_message_id))
        items = self._responses.recent_items(conversation_id, limit=min(100, window))
        stale: list[str] = []
        for item in items:  # newest first
            if item.id == keep_through:
                break
            stale.append(item.id)
        else:
            return
        if stale:
            self.requests += len(stale)
            self._responses.delete_conversation_items(conversation_id, stale)

    def _keep_generated_files(self, response_json: str | None) -> None:
        """Fetch the files the code interpreter made, once: its containers expire upstream."""
        generated = trace.generated_files(response_json)
        kept: list[tuple[str | None, str, str, bytes | None, str | None]] = []
        for f in generated:
            if not f.container_id:
                kept.append((None, f.file_id, f.filename, None, "No container id was given for this file."))
                continue
            try:
                self.requests += 1
                kept.append(
                    (
                        f.container_id,
                        f.file_id,
                        f.filename,
                        self._responses.container_file(f.container_id, f.file_id),
                        None,
                    )
                )
            except Exception as exc:  # the reply stands; the file shows what went wrong
                kept.append((f.container_id, f.file_id, f.filename, None, say(exc, *self.secrets)))
        if kept:
            try:
                self.store.add_run_files(self.run_id, kept)
            except Exception:  # the reply itself is complete; losing the copies must not undo it
                logger.exception("could not keep the files of run %s", self.run_id)

    @staticmethod
    def _finish_response(done: Finished, outcome: dict[str, Any], usage: dict[str, int], fields: dict) -> None:
        outcome["accepted"] = True
        fields["response_id"] = done.response_id
        if done.last_item_id:
            fields["last_item_id"] = done.last_item_id
        usage.update(done.usage)
        fields["response"] = done.record
        outcome["status"] = done.status
        if done.status == "incomplete":
            hint = " Raise max output tokens to allow longer replies." if done.reason == "max_output_tokens" else ""
            outcome["problem"] = Problem("incomplete", f"The reply was cut short ({done.reason}).{hint}")
        elif done.status == "failed":
            outcome["problem"] = Problem("response_failed", f"The model could not finish the reply: {done.reason}")

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
            problem = replace(problem, message=problem.told(*self.secrets))
        text = "".join(parts)
        if status == "cancelled" and problem is None:
            said = "Stopped; the partial reply is kept." if text else "Stopped before the reply began."
            problem = Problem("cancelled", said)
        calls: list[tuple[str, str, str, list[str]]] = []
        if status == "completed" and self.tool_calls:
            status = "requires_action"  # the turn goes on once the calls have outputs
            calls = [
                (c.call_id, c.name, c.arguments, check_arguments(self.version.config, c.name, c.arguments))
                for c in self.tool_calls
            ]
        accepted = status in ("completed", "requires_action")
        handed = accepted and self.continues_run is not None  # the model has these outputs now
        reply_status = "complete" if accepted else ("incomplete" if text else "failed")
        reply = text or None  # a reply of only tool calls has no text to show as a message
        reply_id = self.store.finish_turn(
            self.run_id,
            user_message_id=self.user_message_id,
            # A failed continuation leaves the question answered; its calls stay pending instead.
            user_status="complete" if accepted or self.continues_run is not None else "failed",
            reply=reply,
            reply_status=reply_status,
            thread_id=self.thread.id,
            version_id=self.version.id,
            tool_calls=calls,
            answered=(self.continues_run, self.outputs) if handed and self.continues_run is not None else None,
            status=status,
            error=problem.message if problem else None,
            problem=problem.kind if problem else None,
            ttft_ms=ttft_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
            partial=None,  # the reply row holds the text now
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
    variables: Mapping[str, str] | None = None,
) -> Turn:
    """Log the user's message and its run, then return the turn ready to stream. Raises ValueError on empty
    text, and LogError when the log refuses them (then nothing was written and nothing sent).

    The declared variables are filled in the text and the instructions: their defaults, or `variables`
    (a test case's) where given. The log keeps the text as sent (docs/decisions.md), so a retry and a
    thread's history resend exactly that.
    """
    if not text.strip():
        raise ValueError("Type a message first.")
    text = fill(text, version.config.values(variables))
    if not text.strip():
        raise ValueError("The message is empty once its variables are filled in; give them values.")
    thread = store.get_thread(thread_id)
    if thread is None:
        raise LookupError(f"No thread {thread_id}.")
    # One transaction: a log that refuses the run keeps no message either (a resend makes no copy).
    message_id, run_id = store.start_turn(thread.id, text, version.id, version.config.model)
    return Turn(store, backend, thread, version, message_id, text, secrets=secrets, run_id=run_id, variables=variables)


def retry(
    store: Store,
    backend: Backend,
    user_message_id: int,
    version: Version,
    secrets: tuple[str, ...] = (),
    variables: Mapping[str, str] | None = None,
) -> Turn:
    """Send a failed message again, reusing its row; upstream leftovers of the failed try are removed.
    `variables`: the values the instructions are filled with (a test case's; default: the defaults)."""
    message = store.get_message(user_message_id)
    if message is None or message.role != "user":
        raise LookupError(f"No user message {user_message_id}.")
    if message.status == "complete":
        raise ValueError("That message was answered; send a new one instead.")
    thread = store.get_thread(message.thread_id)
    assert thread is not None
    messages = store.list_messages(thread.id)
    if any(m.placed and m.id > user_message_id for m in messages):
        # It would go upstream before what was placed after it, out of the order the thread shows.
        raise ValueError(
            "A message was placed after this one, so it cannot be sent again in its place; copy it into a new message."
        )
    last_user = [m.id for m in messages if m.role == "user"][-1]
    if last_user != user_message_id:
        # Upstream, later turns sit after this one: resending it would put it twice in the thread.
        raise ValueError("Only the thread's last message can be sent again; copy this one into a new message.")
    runs = store.list_runs(thread.id, bodies=False)
    failed = [r for r in runs if r.user_message_id == user_message_id]
    accepted_before = any(r.response_id for r in failed)
    completed = [r for r in runs if r.status in ("completed", "requires_action") and r.last_item_id]
    forget_after = completed[-1].last_item_id if (accepted_before and completed) else None
    forget_all = accepted_before and not completed
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
        variables=variables,
    )


def answer(
    store: Store,
    backend: Backend,
    run_id: int,
    outputs: dict[str, tuple[str, str]],
    version: Version,
    secrets: tuple[str, ...] = (),
    variables: Mapping[str, str] | None = None,
) -> Turn:
    """Continue a turn that ended with function calls: `outputs` maps call_id → (output, source);
    `variables` as `start` takes them (a test case's values for the instructions).

    Every pending call needs an output (the API refuses a partial answer). The outputs are kept
    before the request, so a failed continuation loses nothing and can be sent again.
    """
    run = store.get_run(run_id)
    if run is None or run.status != "requires_action":
        raise LookupError(f"Run {run_id} is not waiting for function outputs.")
    calls = store.tool_calls(run_id)
    missing = [c.name for c in calls if c.call_id not in outputs]
    if missing:
        raise ValueError(f"Give an output for every call: missing {', '.join(missing)}.")
    store.set_tool_outputs(run_id, outputs, answered=False)
    thread = store.get_thread(run.thread_id)
    assert thread is not None and run.user_message_id is not None
    return Turn(
        store,
        backend,
        thread,
        version,
        run.user_message_id,
        "",
        outputs={c.call_id: outputs[c.call_id] for c in calls},
        continues_run=run_id,
        secrets=secrets,
        variables=variables,
    )


# How long a script run waits for a turn that another run of the same session is closing.
SETTLE_WAIT_S = 3.0


def settled(store: Store, thread_id: int, timeout: float = SETTLE_WAIT_S) -> bool:
    """Wait until no turn of the thread is in progress; False if one still is after `timeout`.

    A Stop click (or any rerun) starts the next script run at once, while the stopped run is
    still closing its turn (Streamlit's fastReruns). Waiting a moment lets the page draw the
    turn as it ended, not as it was; a turn still running after that is streaming elsewhere.
    """
    deadline = time.monotonic() + timeout
    while store.running_run(thread_id) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


# A model that keeps calling handled functions is stopped after this many automatic rounds per
# message, and the calls wait for the user instead: a handler loop must not spend unattended.
AUTO_ROUNDS_MAX = 5


def auto_outputs(
    store: Store, run_id: int, hand_functions: set[str] | frozenset[str] = frozenset()
) -> dict[str, tuple[str, str]] | None:
    """Outputs for a waiting run when its registered handlers can answer every call, else None.

    Only calls never answered before run by themselves (a continuation that failed keeps its
    outputs, and is sent again by the user, not in a loop); `hand_functions` names the functions
    the user chose to answer by typing.
    """
    run = store.get_run(run_id)
    calls = store.tool_calls(run_id)
    if run is None or not calls or any(c.name not in HANDLERS or c.name in hand_functions or c.output for c in calls):
        return None
    rounds = sum(1 for r in store.list_runs(run.thread_id, bodies=False) if r.user_message_id == run.user_message_id)
    if rounds > AUTO_ROUNDS_MAX:
        return None
    return {c.call_id: (run_handler(c.name, c.arguments).output, "handler") for c in calls}


def collect_outputs(
    calls: list[ToolCallRow], hand_calls: set[str], typed: dict[str, str]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The outputs to send, and the names of the calls still missing one.

    A call in `hand_calls` (call ids) takes its typed text; one with a handler takes the handler's
    output (kept from an earlier run of it, or run now).
    """
    outputs: dict[str, tuple[str, str]] = {}
    missing: list[str] = []
    for c in calls:
        if c.name in HANDLERS and c.call_id not in hand_calls:
            kept = c.output if c.source == "handler" else None
            outputs[c.call_id] = (kept or run_handler(c.name, c.arguments).output, "handler")
        elif (typed.get(c.call_id) or "").strip():
            outputs[c.call_id] = (typed[c.call_id].strip(), "hand")
        else:
            missing.append(c.name)
    return outputs, missing
