"""A turn's trace, read back from its run in the log: output items in order, citations, code runs.

Everything here works from the request and response JSON kept on the run, so the trace, the
footnotes and the code-interpreter outputs are there after a reload without asking the API again.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from playground import usage
from playground.client import redact
from playground.placed import sent_with
from playground.store import Message, Run, Store, ToolCallRow

_SECRET_KEYS = {"authorization", "api_key", "api-key", "openai_api_key"}


@dataclass(frozen=True)
class Citation:
    number: int
    file_id: str
    filename: str
    quote: str | None = None
    named: bool = True  # False when no name was found anywhere and `filename` is the id


@dataclass
class CodeRun:
    code: str
    container_id: str | None
    logs: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class GeneratedFile:
    container_id: str | None
    file_id: str
    filename: str


def _load(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def output_items(response_json: str | None) -> list[dict[str, Any]]:
    record = _load(response_json)
    if "choices" in record:
        return _chat_items(record)
    items = record.get("output") or []
    return [i for i in items if isinstance(i, dict)]


def _chat_items(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A Chat Completions reply (the `chat` way) as the same steps as a Responses output: its text,
    then each function call."""
    choices = [c for c in record.get("choices") or [] if isinstance(c, dict)]
    message = (choices[0].get("message") if choices else None) or {}
    items: list[dict[str, Any]] = []
    if message.get("content"):
        status = "incomplete" if choices[0].get("finish_reason") == "length" else "completed"
        items.append(
            {"type": "message", "status": status, "content": [{"type": "output_text", "text": message["content"]}]}
        )
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        items.append(
            {
                "type": "function_call",
                "call_id": call.get("id"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return items


def _annotations(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        if item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            found += [a for a in part.get("annotations") or [] if isinstance(a, dict)]
    return found


def citations(response_json: str | None, names: dict[str, str] | None = None) -> list[Citation]:
    """The files a reply cites, numbered once each, with a quote from the search hit when there is one."""
    items = output_items(response_json)
    quotes: dict[str, str] = {}
    hit_names: dict[str, str] = {}
    for item in items:
        if item.get("type") == "file_search_call":
            for hit in item.get("results") or []:
                fid = hit.get("file_id")
                if fid and hit.get("text") and fid not in quotes:
                    quotes[fid] = " ".join(str(hit["text"]).split())[:200]
                if fid and hit.get("filename"):
                    hit_names[fid] = hit["filename"]
    out: list[Citation] = []
    seen: set[str] = set()
    for a in _annotations(items):
        fid = a.get("file_id")
        if a.get("type") != "file_citation" or not fid or fid in seen:
            continue
        seen.add(fid)
        name = a.get("filename") or hit_names.get(fid) or (names or {}).get(fid)
        out.append(Citation(len(out) + 1, fid, name or fid, quotes.get(fid), named=bool(name)))
    return out


def footnotes(cited: list[Citation]) -> str:
    """Markdown footnotes under a reply; names and quotes are escaped so they stay plain text."""
    lines = []
    for c in cited:
        line = f"[{c.number}] **{_escape(c.filename)}**"
        if not c.named:
            line += " (file name unknown)"
        if c.quote:
            line += f" — “{_escape(c.quote)}”"
        lines.append(line)
    return "  \n".join(lines)


def escape_markdown(text: str) -> str:
    """Text that st.markdown shows as written (names and quotes from the model or a file)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+-.!|~$&" else ch for ch in text)  # $: math, &: entities


_escape = escape_markdown


def code_runs(response_json: str | None) -> list[CodeRun]:
    runs = []
    for item in output_items(response_json):
        if item.get("type") != "code_interpreter_call":
            continue
        run = CodeRun(item.get("code") or "", item.get("container_id"))
        for out in item.get("outputs") or []:
            if out.get("type") == "logs" and out.get("logs"):
                run.logs.append(out["logs"])
            elif out.get("type") == "image":
                image = data_url_bytes(out.get("url") or "")
                if image:
                    run.images.append(image)
        runs.append(run)
    return runs


def data_url_bytes(url: str) -> bytes | None:
    """The bytes of a base64 `data:` URL; None for anything else (remote URLs are not fetched)."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    try:
        return base64.b64decode(url.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None


def generated_files(response_json: str | None) -> list[GeneratedFile]:
    out: list[GeneratedFile] = []
    seen: set[str] = set()
    for a in _annotations(output_items(response_json)):
        fid = a.get("file_id")
        if a.get("type") == "container_file_citation" and fid and fid not in seen:
            seen.add(fid)
            out.append(GeneratedFile(a.get("container_id"), fid, a.get("filename") or fid))
    return out


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def is_image(filename: str, data: bytes | None = None) -> bool:
    """A file the chat can draw: an image by name and, when the bytes are given, by signature too
    (a file named .png that is not one gets a download button only, never a broken picture)."""
    if not filename.lower().endswith(_IMAGE_SUFFIXES):
        return False
    if data is None:
        return True
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )


def output_positions(response_json: str | None) -> dict[str, int]:
    """Where things sit in a turn's output: `"message"` → the first message's index, each function
    call's call_id → its index. The chat draws a turn's text and calls in this order."""
    positions: dict[str, int] = {}
    for index, item in enumerate(output_items(response_json)):
        if item.get("type") == "message":
            positions.setdefault("message", index)
        elif item.get("type") == "function_call" and item.get("call_id"):
            positions.setdefault(str(item["call_id"]), index)
    return positions


_SANDBOX_LINK = re.compile(r"\[([^\]]*)\]\(sandbox:[^)]*\)")
_SANDBOX_PATH = re.compile(r"sandbox:/mnt/data/([^\s)\]]+)")


def without_sandbox_links(text: str) -> str:
    """Code-interpreter replies link files as sandbox:/mnt/data/…, which no browser can open; the
    files are offered as download buttons instead, so keep only the names."""
    return _SANDBOX_PATH.sub(r"\1", _SANDBOX_LINK.sub(r"\1", text))


def redact_json(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A copy with credentials removed: secret-named keys blanked, known secrets cut from strings."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if str(k).lower() in _SECRET_KEYS else redact_json(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v, secrets) for v in value]
    if isinstance(value, str) and secrets:
        return redact(value, *secrets)
    return value


def placed_sent(store: Store, run: Run) -> list[Message]:
    """The messages placed by hand that this run's request carried (for `steps`), from the log."""
    return sent_with(run, store.list_messages(run.thread_id), store.list_runs(run.thread_id, bodies=False))


def steps(
    run: Run, calls: list[ToolCallRow], names: dict[str, str] | None = None, placed: list[Message] | None = None
) -> list[dict[str, Any]]:
    """Every output item of the turn, in order, as plain dicts for display (one per step).
    `names` (file id → name, from the log) names search hits the API returned without one. `placed`
    (`placed.sent_with`): the messages placed by hand that the request carried, as a first step."""
    names = names or {}
    by_call = {c.call_id: c for c in calls}
    out: list[dict[str, Any]] = []
    if placed:
        out.append(
            {
                "step": f"placed messages sent: {len(placed)}",
                "messages": [{"role": m.role, "text": m.content, "placed": True} for m in placed],
            }
        )
    for item in output_items(run.response):
        kind = item.get("type")
        if kind == "message":
            text = "".join(p.get("text") or p.get("refusal") or "" for p in item.get("content") or [])
            out.append({"step": "message", "text": text, "status": item.get("status")})
        elif kind == "function_call":
            call_id = item.get("call_id")
            row = by_call.get(call_id) if call_id is not None else None
            out.append(
                {
                    "step": f"function call: {item.get('name')}",
                    "arguments": item.get("arguments"),
                    "problems": row.problems if row else [],
                    "output": row.output if row else None,
                    "answered": (row.source if row else None),
                }
            )
        elif kind == "file_search_call":
            hits = [
                {
                    "file": h.get("filename") or names.get(h.get("file_id") or "") or h.get("file_id"),
                    "score": h.get("score"),
                    "text": h.get("text"),
                }
                for h in item.get("results") or []
            ]
            out.append({"step": "file search", "queries": item.get("queries"), "hits": hits})
        elif kind == "code_interpreter_call":
            outputs = [
                o.get("logs") if o.get("type") == "logs" else f"[{o.get('type')}]" for o in item.get("outputs") or []
            ]
            out.append({"step": "code interpreter", "code": item.get("code"), "outputs": outputs})
        else:
            out.append({"step": kind or "item", "item": item})
    return out


def usage_line(run: Run, prices: dict[str, usage.Price] | None = None) -> str:
    """Under a reply: "312 → 95 tokens · $0.0004 · 1.2 s" ("tokens unknown" when the server did not
    report them, "no price" for a model missing from the price list); empty while the run is going.
    Read from the run alone and the cached price table: no query per message drawn."""
    if run.status == "in_progress":
        return ""
    prices = usage.current_prices() if prices is None else prices
    return usage.reply_usage(run.model, run.input_tokens, run.output_tokens, run.latency_ms, prices)


def summary(run: Run, prices: dict[str, usage.Price] | None = None) -> dict[str, Any]:
    """The run in numbers; the estimated cost is "no price" for a model missing from the price list and
    "unknown" when the server did not report the tokens (a stopped or cut turn), never $0."""
    prices = usage.current_prices() if prices is None else prices
    return {
        "status": run.status,
        "model": run.model,
        "input tokens": run.input_tokens,
        "output tokens": run.output_tokens,
        "total tokens": run.total_tokens,
        "estimated cost": usage.run_cost(run.model, run.input_tokens, run.output_tokens, prices),
        "time to first token (ms)": round(run.ttft_ms) if run.ttft_ms is not None else None,
        "latency (ms)": round(run.latency_ms) if run.latency_ms is not None else None,
        "upstream request id": run.request_id,
        "response id": run.response_id,
        # The server's context was full: the model did not see the thread's oldest turns.
        "earlier turns not sent": run.dropped_turns,
        "error": run.error,
    }


def raw(run: Run, secrets: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """The request and response JSON as sent and received, redacted."""
    return redact_json(_load(run.request), secrets), redact_json(_load(run.response), secrets)
