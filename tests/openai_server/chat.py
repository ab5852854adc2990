"""`POST /v1/chat/completions` for the local server: the API that Ollama, vLLM, LM Studio, llama.cpp,
Gemini and most gateways speak, where the client resends the whole history every turn.

Answers as upstream does, streamed (`chat.completion.chunk` lines, a usage chunk when
`stream_options.include_usage` asks for it, then `[DONE]`) or not, with tool calls, and the same scripted
text, timing and faults as a Responses reply (`Reply` in server.py). It refuses what the real API
refuses beyond the spec's schema: tool messages out of order, sampling or `max_tokens` on reasoning
models, `reasoning_effort` on models that do not reason, JSON mode without the word "json".
"""

from __future__ import annotations

import json
import re
import socket
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.openai_server.server import Reply, _Handler

# OpenAI's families that do not reason: they refuse `reasoning_effort`.
_NO_REASONING = re.compile(r"^(gpt-3\.5|gpt-4(?!\.\d-reasoning)|gpt-4o|gpt-4\.1|chatgpt-)")
_REASONING = re.compile(r"^(o\d|gpt-5)")


class ChatRefusal(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param, self.code = param, code


def refuse_what_upstream_refuses(body: dict[str, Any], context_chars: int | None = None) -> None:
    """The rules the real Chat Completions API enforces beyond the spec's schema, each as its 400.
    `context_chars`: the model's context in characters of `messages` (a token is about 4)."""
    size = len(json.dumps(body.get("messages")))
    if context_chars is not None and size > context_chars:
        raise ChatRefusal(
            f"This model's maximum context length is {context_chars // 4} tokens. However, your messages "
            f"resulted in {size // 4} tokens. Please reduce the length of the messages.",
            param="messages",
            code="context_length_exceeded",
        )
    for n, tool in enumerate(body.get("tools") or []):
        name = (tool.get("function") or {}).get("name") if isinstance(tool, dict) else None
        if isinstance(name, str) and not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name):
            raise ChatRefusal(
                f"Invalid 'tools[{n}].function.name': string does not match pattern. Expected a string that "
                "matches the pattern '^[a-zA-Z0-9_-]+$'.",
                param=f"tools[{n}].function.name",
                code="invalid_value",
            )
    model = str(body.get("model") or "")
    reasoning = bool(_REASONING.match(model)) and "-chat" not in model
    if body.get("reasoning_effort") is not None and _NO_REASONING.match(model):
        raise ChatRefusal(
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            param="reasoning_effort",
            code="unsupported_parameter",
        )
    if reasoning and body.get("max_tokens") is not None:
        raise ChatRefusal(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    effort = body.get("reasoning_effort")
    sampling_refused = reasoning and not (re.match(r"^gpt-(5\.[1-9]|[6-9])", model) and effort in (None, "none"))
    for name in ("temperature", "top_p"):
        if sampling_refused and body.get(name) is not None:
            raise ChatRefusal(
                f"Unsupported parameter: '{name}' is not supported with this model.",
                param=name,
                code="unsupported_parameter",
            )
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    waiting: list[str] = []
    for n, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in waiting:
                raise ChatRefusal(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    param=f"messages.[{n}].role",
                )
            waiting.remove(message["tool_call_id"])
            continue
        if waiting:
            raise ChatRefusal(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(waiting)}",
                param=f"messages.[{n}].role",
            )
        if role == "assistant":
            waiting = [c.get("id") for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if waiting:
        raise ChatRefusal(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(waiting)}",
            param="messages",
        )
    fmt = (body.get("response_format") or {}).get("type")
    if fmt == "json_object" and "json" not in json.dumps(messages).lower():
        raise ChatRefusal(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            param="messages",
        )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("text"))


def default_text(messages: list[dict[str, Any]]) -> str:
    """Echo the last user message; after tool results, report what the functions returned."""
    tail: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        tail.insert(0, _text_of(message.get("content")))
    if tail:
        return "The function returned: " + "; ".join(tail)
    for message in reversed(messages):
        if message.get("role") == "user":
            return "Echo: " + _text_of(message.get("content"))
    return "Hello."


def usage(body: dict[str, Any], text: str, scripted: dict[str, int] | None) -> dict[str, Any]:
    if scripted:
        prompt = scripted.get("prompt_tokens", scripted.get("input_tokens", 0))
        completion = scripted.get("completion_tokens", scripted.get("output_tokens", 0))
    else:
        # Roughly a token per 4 characters, like the real tokenizer on English text.
        prompt = max(1, len(json.dumps(body.get("messages"))) // 4)
        completion = max(1, len(text) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    calls = []
    for n, call in enumerate(reply.function_calls):
        arguments = call.get("arguments", "{}")
        calls.append(
            {
                "index": n,
                "id": call.get("call_id") or f"call_{time.monotonic_ns():x}{n}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
        )
    return calls


def complete(handler: _Handler, body: dict[str, Any], reply: Reply, request_id: str) -> None:
    """Answer one chat completion request, streamed or not."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    text = reply.text if reply.text is not None else default_text(messages)
    chunks = list(reply.chunks) if reply.chunks is not None else _words(text)
    calls = _tool_calls(reply)
    head = {
        "id": f"chatcmpl-{request_id[4:]}",
        "created": int(time.time()),
        "model": body.get("model"),
        "system_fingerprint": None,
    }
    if not body.get("stream"):
        text = "".join(chunks)
        finish = "tool_calls" if calls else "stop"
        if reply.incomplete_after is not None:
            text, finish = "".join(chunks[: reply.incomplete_after]), "length"
        message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
        if calls:
            message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
        choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
        payload = {**head, "object": "chat.completion", "choices": [choice], "usage": usage(body, text, reply.usage)}
        return handler._json(200, payload, {"x-request-id": request_id})

    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("x-request-id", request_id)
    handler.end_headers()

    def send(choices: list[dict[str, Any]], **extra: Any) -> None:
        chunk = {**head, "object": "chat.completion.chunk", "choices": choices, **extra}
        handler._chunk(f"data: {json.dumps(chunk)}\n\n".encode())

    def delta(d: dict[str, Any], finish: str | None = None) -> None:
        send([{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}])

    try:
        delta({"role": "assistant", "content": "", "refusal": None})
        if reply.ttft:
            time.sleep(reply.ttft)
        sent = ""
        for n, piece in enumerate([*chunks, None]):
            if _fault(handler, reply, n, body, sent, send):
                return
            if piece is None:
                break
            if n and reply.gap:
                time.sleep(reply.gap)
            sent += piece
            delta({"content": piece})
            if n == 0:  # wall clock, for benchmarks comparing with the browser's clock
                with handler.owner._lock:
                    handler.owner.first_delta_at.append(time.time())
        for call in calls:
            opening = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            delta({"tool_calls": [opening]})
            delta({"tool_calls": [{"index": call["index"], "function": {"arguments": call["function"]["arguments"]}}]})
        delta({}, "tool_calls" if calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage") and handler.owner.sends_usage:
            send([], usage=usage(body, sent, reply.usage))
        handler._chunk(b"data: [DONE]\n\n")
        handler._end_chunks()
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client went away (Stop, a closed page)


def _fault(handler: _Handler, reply: Reply, n: int, body: dict, text: str, send: Any) -> bool:
    """Inject the scripted fault due after `n` deltas; True when the stream is over."""
    if reply.cut_after == n:
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: the client sees a cut
        handler.close_connection = True
        return True
    if n in (reply.error_event_after, reply.fail_after):
        # Chat Completions has no failed event: upstream sends an error object in the stream.
        error = {"message": "The server had an error while processing your request.", "type": "server_error"}
        handler._chunk(f"data: {json.dumps({'error': error})}\n\n".encode())
        handler._end_chunks()
        return True
    if reply.incomplete_after == n:
        send([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}])
        if (body.get("stream_options") or {}).get("include_usage") and handler.owner.sends_usage:
            send([], usage=usage(body, text, reply.usage))
        handler._chunk(b"data: [DONE]\n\n")
        handler._end_chunks()
        return True
    if reply.malformed_after == n:
        handler._chunk(b"data: {not json\n\n")
        handler._end_chunks()
        return True
    return False


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) if text else []
