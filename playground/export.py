"""Exports: threads as JSONL, CSV or Markdown; a version as JSON; a config as a runnable Python script.

Everything here is text built from the log, returned as `str` for a download button to encode.

No API key can end up in an export: keys come from the environment, Streamlit secrets or the
session and are never written to the log, and these functions read only assistant configs, version
rows, thread titles, message text, function calls with their outputs, and runs' figures (tokens,
latency, model). They never read a run's request or response JSON. The Python
snippet leaves the key and base URL to the `openai` SDK, which reads them from the environment.

Markdown choice: each message body is put in a fenced code block whose fence is longer than any run
of backticks in the text. Model output then shows exactly as written, raw HTML stays inert, and no
heading, list or unclosed fence in a reply can break the document's structure. The cost is that a
reply's own formatting (tables, bold) is shown as source rather than rendered.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from playground import chat as chat_completions
from playground import provider, replay, usage
from playground import request as request_module
from playground.assistant import AssistantConfig, shape_problems
from playground.store import Message, Store, Thread, ToolCallRow, Version

VERSION_FORMAT = "assistant-playground/version"
VERSION_FORMAT_VERSION = 1
CSV_COLUMNS = (
    "thread_id",
    "thread_title",
    "message_id",
    "created_at",
    "role",
    "status",
    "version",
    "model",
    "content",
    "placed",  # "yes" for a message placed by hand (Store.place_message), not typed as a turn nor written by a model
    # A model reply's figures (empty on other rows, and where the server reported no usage):
    "input_tokens",
    "output_tokens",
    "cost_usd",  # estimated from the price table; empty when the model has no price or the tokens are unknown
    "latency_ms",
)
SNIPPET_PLACEHOLDER = "Hello! What can you do?"

_BACKTICKS = re.compile(r"`+")
# Characters that would make inline text (a title, a model id) render as markup or HTML.
_INLINE_MARKUP = set("\\`*_[]<>#|~")


@dataclass
class _ThreadExport:
    """One thread as the exports need it: its row, its assistant's name and its chosen messages."""

    thread: Thread
    assistant: str
    messages: list[Message]
    versions: dict[int, Version] = field(default_factory=dict)

    def version(self, message: Message) -> Version | None:
        return self.versions.get(message.version_id) if message.version_id is not None else None

    def model(self, message: Message) -> str:
        # The run records the model actually called; messages without a run fall back to their version's.
        if message.model:
            return message.model
        version = self.version(message)
        return version.config.model if version else ""


def _load(store: Store, thread_ids: Iterable[int], include_incomplete: bool) -> list[_ThreadExport]:
    """Read each thread once, in the order asked for; an unknown or foreign thread is an error, not a gap."""
    out: list[_ThreadExport] = []
    versions: dict[int, Version] = {}  # shared across threads: threads of one assistant share versions
    names: dict[int, str] = {}
    for thread_id in thread_ids:
        thread = store.get_thread(thread_id)
        if thread is None:
            raise LookupError(f"No thread {thread_id}.")
        if thread.assistant_id not in names:
            assistant = store.get_assistant(thread.assistant_id)
            names[thread.assistant_id] = assistant.name if assistant else ""
        messages = [m for m in store.list_messages(thread.id) if include_incomplete or m.status == "complete"]
        for m in messages:
            if m.version_id is not None and m.version_id not in versions:
                version = store.get_version(m.version_id)
                if version is not None:
                    versions[m.version_id] = version
        out.append(_ThreadExport(thread, names[thread.assistant_id], messages, versions))
    return out


def _iso(timestamp: float) -> str:
    """ISO 8601 in UTC with milliseconds, so rows sort and parse the same anywhere."""
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- JSONL (chat fine-tuning format) --------------------------------------------------------------


@dataclass
class _Item:
    """One message of a thread as the chat format writes it, with what the splitting needs to know."""

    message: dict[str, Any]
    version_id: int | None = None
    model: str = ""
    created_at: float = 0.0
    output: bool = False  # written by the model (a reply or function calls), not typed nor placed
    placed: bool = False
    unfinished: bool = False  # the model's text before function calls that were never answered

    @property
    def reply(self) -> bool:
        """A model's reply a line can end with: text, no function calls, not cut short by calls."""
        return self.output and not self.unfinished and "tool_calls" not in self.message


def _items(store: Store, export: _ThreadExport) -> list[_Item]:
    """The thread in the chat format's order: each turn's function calls (an assistant message with
    `tool_calls`, holding the text the model wrote before them), one `tool` message per output, then the
    reply. Only calls the model was given outputs for (status answered) are kept: a call without its
    answer would be an example the fine-tuning format refuses, and the text before such calls is kept
    as context only (`"weight": 0`)."""
    runs = {r.id: r for r in store.list_runs(export.thread.id, bodies=False)}
    calls: dict[int, list[ToolCallRow]] = {}
    unfinished: set[int] = set()  # runs whose calls the model never got outputs for
    for call in store.thread_tool_calls(export.thread.id):
        if call.status == "answered" and call.output is not None:
            calls.setdefault(call.run_id, []).append(call)
        else:
            unfinished.add(call.run_id)
    for run_id in unfinished:
        calls.pop(run_id, None)  # all of a run's calls or none: the API takes every output at once
    rows: list[tuple[float, int, _Item]] = []
    for m in export.messages:
        if m.role not in ("system", "user", "assistant"):
            continue
        answered = calls.pop(m.run_id, []) if m.role == "assistant" and m.run_id is not None else []
        if not m.content and not answered:
            continue
        message: dict[str, Any] = {"role": m.role}
        if m.content:
            message["content"] = m.content
        item = _Item(message, m.version_id, export.model(m), m.created_at, m.role == "assistant" and not m.placed)
        item.placed = m.placed
        if m.role == "assistant" and (m.placed or m.run_id in unfinished):
            # Placed by hand, or text the model wrote before calls it never got outputs for: context,
            # never learned (the turn did not end there), and no line ends with it.
            message["weight"] = 0
            item.unfinished = not m.placed
        rows.append((m.created_at, len(rows), item))
        rows += [(m.created_at, len(rows) + n, t) for n, t in enumerate(_calls(item, answered))]
    for run_id, answered in calls.items():  # turns that were only function calls: no message of their own
        run = runs.get(run_id)
        version = export.versions.get(run.version_id) if run and run.version_id is not None else None
        if run and run.version_id is not None and version is None:
            version = store.get_version(run.version_id)
            if version is not None:
                export.versions[version.id] = version
        item = _Item({"role": "assistant"}, run.version_id if run else None, (run.model if run else "") or "")
        item.output, item.created_at = True, answered[0].created_at
        if not item.model and version is not None:
            item.model = version.config.model
        rows.append((item.created_at, len(rows), item))
        rows += [(item.created_at, len(rows) + n, t) for n, t in enumerate(_calls(item, answered))]
    rows.sort(key=lambda row: (row[0], row[1]))
    return [item for _, _, item in rows]


def _calls(item: _Item, answered: list[ToolCallRow]) -> list[_Item]:
    """Puts the calls in `item` (an assistant message); returns a `tool` message for each output."""
    if not answered:
        return []
    item.message["tool_calls"] = [
        {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in answered
    ]
    outputs = [
        _Item({"role": "tool", "tool_call_id": c.call_id, "content": c.output or ""}, created_at=item.created_at)
        for c in answered
    ]
    return outputs


def _function_tools(version: Version | None) -> list[dict[str, Any]]:
    """The version's functions as the chat format's `tools` (Chat Completions' shape)."""
    out = []
    for fn in version.config.functions if version else []:
        function: dict[str, Any] = {"name": fn.name}
        if fn.description:
            function["description"] = fn.description
        # A saved version's schema is valid JSON; an unreadable one is left out, not guessed.
        with contextlib.suppress(TypeError, ValueError):
            function["parameters"] = json.loads(fn.parameters)
        function["strict"] = fn.strict
        out.append({"type": "function", "function": function})
    return out


def _hosted_tools(version: Version | None) -> list[str]:
    if version is None:
        return []
    return [name for name, tool in (("file_search", version.config.file_search),
            ("code_interpreter", version.config.code_interpreter)) if tool.enabled]  # fmt: skip


def conversation_jsonl(
    store: Store, thread_ids: Iterable[int], *, include_incomplete: bool = False, metadata: bool = False
) -> str:
    """Lines in OpenAI's chat fine-tuning format, `{"messages": [...], "tools": [...]}`, that evals read too.

    Only complete messages by default: a cut-off or failed reply would teach or grade the wrong thing.
    Function calls are carried as the format has them: an assistant message with `tool_calls` (id,
    `function` with name and arguments, and the text the model wrote before calling, if any), one
    `tool` message per output with its `tool_call_id`, then the reply. `tools` lists the version's
    functions (left out when it has none). Hosted tools (file search, code interpreter) have no place
    in the format: their calls are left out, and with `metadata` the line names them (`hosted_tools`).

    One line per span of replies made under the same setup (instructions and functions): the system
    message is the instructions of the version that wrote those replies, the thread before the span
    is context (its assistant messages get `"weight": 0`, so each reply is learned once, under its
    own instructions), and the line ends with the span's last reply (a trailing question or pending
    calls have no answer to learn from). A span without a reply, or without a user message before
    its last reply, makes no line; nor does a thread without a single model reply.

    No key but `messages` and `tools` (what a fine-tuning upload accepts), unless `metadata` asks for
    a `metadata` object: thread, title, assistant, the span's version numbers, model, created time of
    its last reply, which example of the thread it is, hosted tools left out, and the positions of
    placed messages. An assistant message placed by hand is not model output: it gets `"weight": 0`
    too, and "reply" above means a model's reply.
    """
    lines = []
    for export in _load(store, thread_ids, include_incomplete):
        items = _items(store, export)
        # A span: consecutive model outputs under one setup (a reply with no version keeps the current one).
        spans: list[tuple[Any, list[int]]] = []
        for n, item in enumerate(items):
            if not item.output:
                continue
            version = export.versions.get(item.version_id) if item.version_id is not None else None
            setup = (
                (version.config.instructions, json.dumps(_function_tools(version), sort_keys=True))
                if version
                else (spans[-1][0] if spans else None)
            )
            if spans and spans[-1][0] == setup:
                spans[-1][1].append(n)
            else:
                spans.append((setup, [n]))
        count = 0
        for _, members in spans:
            replies = [n for n in members if items[n].reply]
            if not replies or not any(i.message["role"] == "user" for i in items[: replies[-1]]):
                continue
            last = replies[-1]
            own = set(members)
            trained = [items[n] for n in members if n <= last]
            version = next((export.versions[i.version_id] for i in trained if i.version_id in export.versions), None)
            messages: list[dict[str, Any]] = []
            if version and version.config.instructions:
                messages.append({"role": "system", "content": version.config.instructions})
            first = len(messages)
            for n, item in enumerate(items[: last + 1]):
                message = dict(item.message)
                if item.output and n not in own:
                    message["weight"] = 0  # another setup's output: context here, learned in its own line
                messages.append(message)
            line: dict[str, Any] = {"messages": messages}
            if tools := _function_tools(version):
                line["tools"] = tools
            count += 1
            if metadata:
                numbers = {v.number for i in trained if (v := export.versions.get(i.version_id or -1))}
                hosted = sorted({h for i in trained for h in _hosted_tools(export.versions.get(i.version_id or -1))})
                line["metadata"] = {
                    "thread_id": export.thread.id,
                    "title": export.thread.title,
                    "assistant": export.assistant,
                    "versions": sorted(numbers),
                    # The model of the span's first output, the setup the system message comes from.
                    "model": trained[0].model,
                    "created_at": _iso(items[last].created_at),
                    "example": count,  # which of the thread's lines this is, from 1
                }
                if hosted:
                    line["metadata"]["hosted_tools"] = hosted  # enabled, their calls not in the example
                placed = [first + n for n, item in enumerate(items[: last + 1]) if item.placed]
                if placed:
                    line["metadata"]["placed"] = placed  # indexes into `messages` of those placed by hand
            lines.append(json.dumps(line, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


# -- CSV -------------------------------------------------------------------------------------------


def conversation_csv(
    store: Store,
    thread_ids: Iterable[int],
    *,
    include_incomplete: bool = True,
    prices: dict[str, usage.Price] | None = None,
) -> str:
    """Every message as a row (columns in CSV_COLUMNS); the csv module quotes commas, quotes and newlines.

    All statuses by default: this is the log as it happened, and the status column says which replies
    were cut off or failed. A cell that a spreadsheet would run as a formula (a message starting with
    `=`, say) gets one leading apostrophe (see `csv_text`); `read_csv` takes it off again, so the text
    round-trips exactly through the app, and a spreadsheet shows it as text.

    A model reply's row has its turn's tokens, estimated cost (USD, from `prices`, the price table by
    default) and latency: those of the run that wrote it, plus the function-call rounds before it
    that left no message of their own (the model's calls, answered, then this reply). An unknown
    figure is an empty cell, never 0: tokens the server did not report, and a cost with no price or
    no tokens.
    """
    prices = usage.current_prices() if prices is None else prices
    rows = []
    for export in _load(store, thread_ids, include_incomplete):
        figures = _reply_figures(store, export, prices)
        for m in export.messages:
            version = export.version(m)
            rows.append(
                {
                    "thread_id": export.thread.id,
                    "thread_title": export.thread.title,
                    "message_id": m.id,
                    "created_at": _iso(m.created_at),
                    "role": m.role,
                    "status": m.status,
                    "version": version.number if version else (m.version_number or ""),
                    "model": export.model(m),
                    "content": m.content,
                    "placed": "yes" if m.placed else "",
                }
                | figures.get(m.id, {})
            )
    return csv_text(CSV_COLUMNS, rows)


def _reply_figures(store: Store, export: _ThreadExport, prices: dict[str, usage.Price]) -> dict[int, dict[str, Any]]:
    """message id → its tokens, cost and latency cells, for each assistant message a run wrote."""
    runs = store.list_runs(export.thread.id, bodies=False)
    written = {m.run_id for m in store.list_messages(export.thread.id) if m.role == "assistant" and m.run_id}
    by_id = {r.id: r for r in runs}
    out: dict[int, dict[str, Any]] = {}
    for m in export.messages:
        run = by_id.get(m.run_id) if m.role == "assistant" and m.run_id is not None else None
        if run is None:
            continue
        # Earlier rounds of the same message's turn: runs waiting for function outputs, with no text
        # of their own, back to the previous run that wrote a message.
        turn = [run]
        for r in reversed([r for r in runs if r.id < run.id and r.user_message_id == run.user_message_id]):
            if r.id in written:
                break
            if r.status == "requires_action":
                turn.append(r)
        inputs = [r.input_tokens for r in turn]
        outputs = [r.output_tokens for r in turn]
        known = None not in inputs and None not in outputs
        cost = None
        if known:
            costs = [usage.cost(r.model, r.input_tokens, r.output_tokens, prices) for r in turn]
            cost = None if None in costs else sum(c for c in costs if c is not None)
        latencies = [r.latency_ms for r in turn]
        out[m.id] = {
            "input_tokens": sum(i for i in inputs if i is not None) if known else "",
            "output_tokens": sum(o for o in outputs if o is not None) if known else "",
            "cost_usd": _decimal(cost) if cost is not None else "",
            "latency_ms": round(sum(t for t in latencies if t is not None)) if None not in latencies else "",
        }
    return out


def _decimal(value: float) -> str:
    """A plain decimal: no 3.16e-05, no float noise."""
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


# A cell a spreadsheet runs as a formula starts with = + - @, a tab or a CR (OWASP's list). Text that
# would become one once an apostrophe is taken off (apostrophes, then one of those) gets one more too,
# so reading back is exact for every string.
_NEUTRALISED = re.compile(r"'*[=+\-@\t\r]")


def csv_text(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> str:
    """Rows as CSV, every text cell that could run as a formula prefixed with one apostrophe.

    Every CSV the app writes goes through here; `read_csv` reads it back. Numbers stay numbers (a
    negative number is data, not a formula); only text is neutralised.
    """
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _neutralise(v) for k, v in row.items()})
    return buffer.getvalue()


def read_csv(text: str) -> list[dict[str, str | None]]:
    """A CSV written by `csv_text`, with the apostrophe each neutralised cell got taken off again."""
    return [{k: restore_cell(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text, newline=""))]


def _neutralise(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and _NEUTRALISED.match(value) else value


def restore_cell(cell: str | None) -> str | None:
    """One cell of a CSV `csv_text` wrote, as it was before (cases.read_csv reads row by row with it)."""
    return cell[1:] if cell and cell.startswith("'") and _NEUTRALISED.match(cell, 1) else cell


# -- Markdown --------------------------------------------------------------------------------------


def conversation_markdown(store: Store, thread_ids: Iterable[int], *, include_incomplete: bool = True) -> str:
    """A document to read or share: a `## title` per thread, each message under a bold header.

    Message bodies are fenced (see the module docstring). Messages that are not complete are kept by
    default and marked, since a reader wants to see where a reply was cut off.
    """
    parts = ["# Conversations\n"]
    for export in _load(store, thread_ids, include_incomplete):
        thread = export.thread
        title = _inline(thread.title) or f"Thread {thread.id}"
        parts.append(f"## {title}\n")
        about = [f"Thread {thread.id}", f"started {_when(thread.created_at)}"]
        if export.assistant:
            about.insert(0, f"Assistant: {_inline(export.assistant)}")
        parts.append(" · ".join(about) + "\n")
        if not export.messages:
            parts.append("_No messages._\n")
        for m in export.messages:
            header = f"**{_speaker(export, m)}** · {_when(m.created_at)}"
            if m.placed:
                header += " · _placed by hand_"
            if m.status != "complete":
                header += f" · _{_inline(m.status)}_"
            parts.append(header + "\n")
            parts.append(_fenced(m.content) + "\n")
    return "\n".join(parts)


def _speaker(export: _ThreadExport, m: Message) -> str:
    if m.role != "assistant":
        return _inline(m.role.capitalize())
    version = export.version(m)
    details = [f"v{version.number}"] if version else []
    model = export.model(m)
    if model:
        details.append(_inline(model))
    return f"Assistant ({' · '.join(details)})" if details else "Assistant"


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _inline(text: str) -> str:
    """One line of plain text for a heading or header: line breaks folded, markup and HTML escaped."""
    line = " ".join((text or "").split())
    return "".join("\\" + ch if ch in _INLINE_MARKUP else ch for ch in line)


def _fenced(text: str) -> str:
    # A fence longer than any backtick run inside cannot be closed by the content (CommonMark §4.5).
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


# -- a replay compared with a baseline --------------------------------------------------------------


def replay_csv(
    store: Store, replay_id: int, baseline_id: int | None = None, prices: dict[str, Any] | None = None
) -> str:
    """A replay's results, one row per input, with the baseline's beside them and the diff (as on the
    Test sets page). Costs are estimated USD; an empty cost cell means "no price", never zero."""
    this = store.get_replay(replay_id)
    base = store.get_replay(baseline_id) if baseline_id is not None else None
    if this is None or (baseline_id is not None and base is None):
        raise LookupError("No such replay for this owner.")
    rows = replay.compare_rows(store, replay_id, baseline_id, prices)
    about = {"replay": replay_id, "version": f"{this['assistant']} v{this['version']}"}
    if base:
        about |= {"baseline replay": baseline_id, "baseline version": f"{base['assistant']} v{base['version']}"}
    columns = [*about, *(k for k in (rows[0] if rows else {}) if k != "diff"), *(["diff"] if base else [])]
    table = []
    for row in rows:
        cells = {k: "" if v is None else v for k, v in row.items()}
        for key in ("cost", "baseline cost"):  # plain decimals: no 3.16e-05, no float noise
            if isinstance(value := cells.get(key), float):
                cells[key] = _decimal(value)
        table.append(about | cells)
    return csv_text(columns, table)


# -- a version as JSON -----------------------------------------------------------------------------


def version_json(version: Version) -> str:
    """The version as a self-describing JSON document, pretty-printed, to keep or import elsewhere."""
    document = {
        "format": VERSION_FORMAT,
        "format_version": VERSION_FORMAT_VERSION,
        "assistant_id": version.assistant_id,
        "version": version.number,
        "created_at": _iso(version.created_at),
        "note": version.note,
        "config": version.config.to_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def is_version_document(text: str) -> bool:
    """Whether `text` is a `version_json` document (by its "format"), not, say, a legacy export that
    merely mentions the format somewhere in its metadata."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("format") == VERSION_FORMAT


def version_from_json(text: str) -> AssistantConfig:
    """The config from a `version_json` document. Raises ValueError, in one sentence, on anything else.

    The config is not validated: like a draft, it may be edited before it is saved as a version, and
    saving validates it. Only a config that cannot even be represented is refused.
    """
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        raise ValueError(f"This is not valid JSON{where}.") from e
    except RecursionError as e:
        raise ValueError("The text is nested too deeply to be an assistant version.") from e
    if not isinstance(document, dict):
        raise ValueError("This is not an assistant version: expected a JSON object.")
    if document.get("format") != VERSION_FORMAT:
        raise ValueError(f'This is not an assistant version: "format" should be "{VERSION_FORMAT}".')
    format_version = document.get("format_version")
    if not isinstance(format_version, int) or isinstance(format_version, bool) or format_version < 1:
        raise ValueError('This assistant version has no valid "format_version".')
    if format_version > VERSION_FORMAT_VERSION:
        raise ValueError(
            f"This assistant version uses format {format_version}; this app reads up to {VERSION_FORMAT_VERSION}."
        )
    data = document.get("config")
    if not isinstance(data, dict):
        raise ValueError('This assistant version has no "config" object.')
    problems = shape_problems(data)
    if problems:
        listed = "; ".join(f"{p.field} {p.message}" for p in problems[:6])
        more = f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""
        raise ValueError(f"The config in this file has fields of the wrong shape: {listed}{more}.")
    try:
        config = AssistantConfig.from_dict(data)
        config.validate()  # only to prove every field has a usable type; its findings are for the editor
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"The config in this file has a field of the wrong shape: {e}.") from e
    return config


# -- a runnable Python script ----------------------------------------------------------------------


def python_snippet(config: AssistantConfig, way: str = "conversations") -> str:
    """A standalone script that sends one message with this config, the way its turns run here:
    the Responses API (`conversations`), or Chat Completions (`chat`, for servers without Responses).

    The request is the same one a turn sends (`request.build` or `chat.build`), without streaming, as
    a Python literal (JSON's true/false/null become True/False/None; strings go through repr). The key
    and base URL are left to the SDK's environment variables, so the script holds no secret. Raises
    ValueError on an invalid config, whose JSON fields could not be turned into a request, and on
    hosted tools for `chat`, which only OpenAI's Responses API runs.
    """
    problems = config.validate()
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    config = config.filled()  # the instructions as a chat turn sends them: variables at their defaults
    name = _comment(config.name) or "an assistant"
    if way == "chat":
        if refused := provider.CAPABILITIES["chat"].refusal_for(config):
            raise ValueError(refused)
        body = chat_completions.build(config, [{"role": "user", "content": SNIPPET_PLACEHOLDER}], stream=False)
        api, send, show = (
            "Chat Completions",
            'request["messages"][-1]["content"] = sys.argv[1]',
            ("completion = client.chat.completions.create(**request)\nprint(completion.choices[0].message.content)"),
        )
    else:
        body = request_module.build(config, input=SNIPPET_PLACEHOLDER, stream=False)
        api, send = "Responses API", 'request["input"] = sys.argv[1]'
        show = "response = client.responses.create(**request)\nprint(response.output_text)"
    return f'''"""Send one message to {name} through the {api}, configured as in Assistant Playground.

Needs `pip install openai` and OPENAI_API_KEY in the environment (and OPENAI_BASE_URL for a
compatible server). Usage: python this_file.py "your message"
"""

import sys

from openai import OpenAI

client = OpenAI()  # reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment

request = {_literal(body)}

if len(sys.argv) > 1:
    {send}

{show}
'''


def _literal(value: Any, depth: int = 0) -> str:
    """`value` (JSON data) as Python source, one key or item per line, in the request's own key order.

    Built by hand rather than with pprint, whose hanging indents are hard to read and edit.
    """
    pad, inner = "    " * depth, "    " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_literal(str(k))}: {_literal(v, depth + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [f"{inner}{_literal(v, depth + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"  # a schema may hold 1e999, which json.loads reads as inf
    if value is None or isinstance(value, (str, bool, int, float)):
        return repr(value)
    raise TypeError(f"Cannot write {type(value).__name__} as a Python literal.")


def _comment(text: str) -> str:
    # The name goes into a docstring: no line breaks, NULs or quotes that could end it early.
    printable = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return " ".join(printable.replace('"', "'").replace("\\", "/").split())
