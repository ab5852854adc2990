"""The `chat` way of running a turn: Chat Completions, with the thread's history rebuilt from the log.

Servers other than OpenAI keep no conversation (Ollama, vLLM, LM Studio, llama.cpp, Gemini…), so every
turn sends the whole thread as `messages`: the instructions first (`system`), then each answered user
message, the model's function calls with their outputs, and its replies, in the order they happened.
Only what was accepted is resent: a failed or stopped attempt is the user's to retry, not history,
so a retry simply sends again from the log and there is nothing upstream to clean up.

The stream comes back as the same neutral events as the Responses backend (backend.py), so the turn
engine, the pages and the log do not know which way ran the turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import openai

from playground import provider
from playground.assistant import AssistantConfig
from playground.backend import Call, Created, Delta, Finished, StreamHandle, UpstreamEvent
from playground.store import Run, Store

CAPABILITIES = provider.CAPABILITIES["chat"]


def tools(config: AssistantConfig) -> list[dict[str, Any]]:
    """The config's functions in the Chat Completions shape (nested under `function`)."""
    out = []
    for fn in config.functions:
        function: dict[str, Any] = {"name": fn.name, "parameters": json.loads(fn.parameters), "strict": fn.strict}
        if fn.description:
            function["description"] = fn.description
        out.append({"type": "function", "function": function})
    return out


def response_format(config: AssistantConfig) -> dict[str, Any] | None:
    rf = config.response_format
    if rf.type == "auto":
        return None
    if rf.type in ("text", "json_object"):
        return {"type": rf.type}
    schema: dict[str, Any] = {"name": rf.name, "schema": json.loads(rf.schema), "strict": rf.strict}
    if rf.description:
        schema["description"] = rf.description
    return {"type": "json_schema", "json_schema": schema}


def build(
    config: AssistantConfig, history: list[dict[str, Any]], *, stream: bool = True, instructions_role: str = "system"
) -> dict[str, Any]:
    """Keyword arguments for `client.chat.completions.create`. The config must be valid."""
    first = [{"role": instructions_role, "content": config.instructions}] if config.instructions else []
    messages = first + history
    model = config.model.strip()
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}  # usage comes in a last chunk, when the server has it
    tool_list = tools(config)
    if tool_list:
        body["tools"] = tool_list
    fmt = response_format(config)
    if fmt:
        body["response_format"] = fmt
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.top_p is not None:
        body["top_p"] = config.top_p
    if config.reasoning_effort and provider.takes_reasoning_effort(model) is not False:
        body["reasoning_effort"] = config.reasoning_effort
    if config.max_output_tokens is not None:
        body["max_completion_tokens"] = config.max_output_tokens
    return body


def history(store: Store, thread_id: int, current_message_id: int) -> list[dict[str, Any]]:
    """The thread as Chat Completions messages, from the log: every answered exchange and every message
    placed by hand, in order, then the message being sent now (with the outputs of its calls, when this
    turn continues after function calls)."""
    messages = store.list_messages(thread_id)
    attempts: dict[int, list[Run]] = {}  # the accepted runs of each user message, oldest first
    for run in store.list_runs(thread_id, bodies=False):
        if run.user_message_id is not None and run.status in ("completed", "requires_action"):
            attempts.setdefault(run.user_message_id, []).append(run)
    calls: dict[int, list] = {}
    for call in store.thread_tool_calls(thread_id):
        calls.setdefault(call.run_id, []).append(call)
    replies = {m.run_id: m for m in messages if m.role == "assistant" and m.run_id is not None}
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.placed:  # put in by hand: history like any other, in its place
            out.append({"role": message.role, "content": message.content})
            continue
        if message.role != "user" or not (message.status == "complete" or message.id == current_message_id):
            continue
        out.append({"role": "user", "content": message.content})
        for run in attempts.get(message.id, []):
            reply = replies.get(run.id)
            answered = [c for c in calls.get(run.id, []) if c.output is not None]
            if answered:
                out.append(
                    {
                        "role": "assistant",
                        "content": reply.content if reply else None,
                        "tool_calls": [
                            _as_tool_call({"id": c.call_id, "name": c.name, "arguments": c.arguments}) for c in answered
                        ],
                    }
                )
                out += [{"role": "tool", "tool_call_id": c.call_id, "content": c.output} for c in answered]
            elif reply is not None:
                out.append({"role": "assistant", "content": reply.content})
    return out


# What servers say when a thread no longer fits the model's context (OpenAI, vLLM, llama.cpp, LM Studio…).
_CONTEXT_FULL = re.compile(
    r"context.length|context.window|maximum context|exceeds? the (available )?context|too many tokens"
    r"|prompt is too long",
    re.IGNORECASE,
)
_TOKENS = re.compile(r"(\d[\d,]*)\s*tokens", re.IGNORECASE)


def context_full(exc: BaseException) -> bool:
    """True when the server refused the request because the thread does not fit the model's context."""
    if not isinstance(exc, openai.BadRequestError):
        return False
    return getattr(exc, "code", None) == "context_length_exceeded" or bool(_CONTEXT_FULL.search(str(exc)))


def trim(history: list[dict[str, Any]], exc: BaseException) -> tuple[list[dict[str, Any]], int]:
    """The history without its oldest turns, sized by characters (no tokenizer can be fetched here) to
    fit what the refusal says the model takes ("maximum … 8192 tokens … 12000 tokens"), else half.
    A turn is a user message with everything up to the next one; the last (the one being sent) stays.
    Returns the shorter history and how many turns it left out (0: nothing left to drop)."""
    starts = [n for n, m in enumerate(history) if m.get("role") == "user"]
    if len(starts) < 2:
        return history, 0
    size = len(json.dumps(history))
    numbers = [int(n.replace(",", "")) for n in _TOKENS.findall(str(exc))]
    limit, asked = (min(numbers[:2]), max(numbers[:2])) if len(numbers) >= 2 and min(numbers[:2]) > 0 else (1, 2)
    target = size * limit / asked * 0.9  # a margin: characters per token vary
    dropped = 0
    while dropped < len(starts) - 1 and len(json.dumps(history[starts[dropped + 1] :])) > target:
        dropped += 1
    dropped = max(dropped, 1)
    return history[starts[dropped] :], dropped


class ChatBackend:
    """Runs turns over Chat Completions. Holds no history: the turn hands it the thread from the log."""

    capabilities = CAPABILITIES
    way = "chat"

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client

    def request(
        self,
        config: AssistantConfig,
        conversation_id: str,
        *,
        text: str | None = None,
        outputs: dict[str, str] | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The body for one turn: the thread so far, which already holds this turn's message or outputs."""
        if history is None:
            history = [{"role": "user", "content": text or ""}]
        # OpenAI's reasoning models take instructions as `developer`; every other server knows `system`.
        openai_reasoning = provider.is_openai(str(self.client.base_url)) and provider.takes_reasoning_effort(
            config.model
        )
        return build(config, history, instructions_role="developer" if openai_reasoning else "system")

    def stream(self, request: dict[str, Any]) -> StreamHandle:
        stream = self.client.chat.completions.create(**{**request, "stream": True})
        return StreamHandle(_events(stream, request), stream.response.headers.get("x-request-id"), stream.close)


def _events(stream: Any, request: dict[str, Any]) -> Iterator[UpstreamEvent]:
    """Chat completion chunks as neutral events. Calls arrive in pieces by index and are yielded whole
    when the choice finishes; usage, when the server sends it, comes in a last chunk with no choices."""
    completion_id: str | None = None
    text: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    finish: str | None = None
    usage: dict[str, int] = {}
    model = request.get("model")
    for chunk in stream:
        if completion_id is None:
            completion_id = chunk.id or "chatcmpl"
            yield Created(completion_id)
        model = chunk.model or model
        if chunk.usage is not None:
            usage = {
                "input_tokens": chunk.usage.prompt_tokens,
                "output_tokens": chunk.usage.completion_tokens,
                "total_tokens": chunk.usage.total_tokens,
            }
        for choice in chunk.choices:
            delta = choice.delta
            piece = (delta.content or "") + (getattr(delta, "refusal", None) or "")
            if piece:
                text.append(piece)
                yield Delta(piece)
            for part in delta.tool_calls or []:
                call = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = part.id or call["id"]
                if part.function is not None:
                    call["name"] += part.function.name or ""
                    call["arguments"] += part.function.arguments or ""
            finish = choice.finish_reason or finish
    if finish is None:
        return  # no finish reason: the stream was cut, which the turn says as such
    for n in sorted(calls):
        yield Call(calls[n]["id"] or f"call_{n}", calls[n]["name"], calls[n]["arguments"] or "{}")
    record = {
        "id": completion_id,
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "message": {
                    "role": "assistant",
                    "content": "".join(text) or None,
                    **({"tool_calls": [_as_tool_call(calls[n]) for n in sorted(calls)]} if calls else {}),
                },
            }
        ],
        **({"usage": usage} if usage else {}),
    }
    if finish in ("length", "content_filter"):
        status, reason = "incomplete", "max_output_tokens" if finish == "length" else finish
    else:
        status, reason = "completed", None
    yield Finished(status, completion_id or "", usage, None, json.dumps(record, ensure_ascii=False), reason)


def _as_tool_call(call: dict[str, str]) -> dict[str, Any]:
    return {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
