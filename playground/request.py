"""Map an assistant config onto a Responses API request (notes §3.6)."""

from __future__ import annotations

import json
from typing import Any

from playground import provider
from playground.assistant import AssistantConfig


def tools(config: AssistantConfig) -> list[dict[str, Any]]:
    """The config's tools in the Responses shape: function tools are flat, not nested."""
    out: list[dict[str, Any]] = []
    fs = config.file_search
    if fs.enabled:
        tool: dict[str, Any] = {
            "type": "file_search",
            "vector_store_ids": [i.strip() for i in fs.vector_store_ids if i.strip()],
        }
        if fs.max_num_results is not None:
            tool["max_num_results"] = fs.max_num_results
        ranking: dict[str, Any] = {}
        if fs.ranker:
            ranking["ranker"] = fs.ranker
        if fs.score_threshold is not None:
            ranking["score_threshold"] = fs.score_threshold
        if ranking:
            tool["ranking_options"] = ranking
        out.append(tool)
    ci = config.code_interpreter
    if ci.enabled:
        out.append({"type": "code_interpreter", "container": {"type": "auto", "file_ids": list(ci.file_ids)}})
    for fn in config.functions:
        tool = {
            "type": "function",
            "name": fn.name,
            "parameters": json.loads(fn.parameters),
            "strict": fn.strict,
        }
        if fn.description:
            tool["description"] = fn.description
        out.append(tool)
    return out


def text_format(config: AssistantConfig) -> dict[str, Any] | None:
    rf = config.response_format
    if rf.type == "auto":
        return None
    if rf.type in ("text", "json_object"):
        return {"format": {"type": rf.type}}
    fmt: dict[str, Any] = {
        "type": "json_schema",
        "name": rf.name,
        "schema": json.loads(rf.schema),
        "strict": rf.strict,
    }
    if rf.description:
        fmt["description"] = rf.description
    return {"format": fmt}


def build(
    config: AssistantConfig,
    *,
    input: str | list[dict[str, Any]],
    conversation_id: str | None = None,
    stream: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for `client.responses.create`. The config must be valid."""
    body: dict[str, Any] = {"model": config.model.strip(), "input": input, "stream": stream}
    if conversation_id:
        body["conversation"] = conversation_id
    if config.instructions:
        body["instructions"] = config.instructions
    tool_list = tools(config)
    if tool_list:
        body["tools"] = tool_list
    # Search hits and code outputs are not returned unless asked for; the trace and chat show them.
    include = []
    if config.file_search.enabled:
        include.append("file_search_call.results")
    if config.code_interpreter.enabled:
        include.append("code_interpreter_call.outputs")
    if include:
        body["include"] = include
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.top_p is not None:
        body["top_p"] = config.top_p
    text = text_format(config)
    if text:
        body["text"] = text
    # Kept in the config but not sent to a family known not to reason: the API refuses it with a 400. A
    # model the app cannot know (a local one) gets it, and its server says if it refuses.
    if config.reasoning_effort and provider.takes_reasoning_effort(config.model) is not False:
        body["reasoning"] = {"effort": config.reasoning_effort}
    if config.max_output_tokens is not None:
        body["max_output_tokens"] = config.max_output_tokens
    if config.metadata:
        body["metadata"] = dict(config.metadata)
    if config.truncation:
        body["truncation"] = "auto"
    return body


def user_message(text: str) -> list[dict[str, Any]]:
    return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]
