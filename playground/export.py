"""Exports: threads as JSONL, CSV or Markdown; a version as JSON; a config as a runnable Python script.

Everything here is text built from the log, returned as `str` for a download button to encode.

No API key can end up in an export: keys come from the environment, Streamlit secrets or the
session and are never written to the log, and these functions read only assistant configs, version
rows, thread titles and message text. They never read a run's request or response JSON. The Python
snippet leaves the key and base URL to the `openai` SDK, which reads them from the environment.

Markdown choice: each message body is put in a fenced code block whose fence is longer than any run
of backticks in the text. Model output then shows exactly as written, raw HTML stays inert, and no
heading, list or unclosed fence in a reply can break the document's structure. The cost is that a
reply's own formatting (tables, bold) is shown as source rather than rendered.
"""

from __future__ import annotations

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
from playground import provider, replay
from playground import request as request_module
from playground.assistant import AssistantConfig, shape_problems
from playground.store import Message, Store, Thread, Version

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


# -- JSONL (chat messages format) ------------------------------------------------------------------


def conversation_jsonl(
    store: Store, thread_ids: Iterable[int], *, include_incomplete: bool = False, metadata: bool = False
) -> str:
    """One line per thread, in the `{"messages": [...]}` format that fine-tuning and evals read.

    Only complete messages by default: a cut-off or failed reply would teach or grade the wrong thing.
    Turns that were only tool calls left no assistant text and are not in the log as messages, and
    empty messages are skipped. Each line ends with the thread's last assistant reply (a trailing
    question has no answer to learn from), and a thread without a single reply is left out, since
    fine-tuning refuses an example with no assistant message. The system message is the instructions
    of the version that produced the thread's first reply (none if it has no instructions).
    Only the `messages` key, unless `metadata` asks for a `metadata` object (thread, title, assistant,
    versions, model, and the positions of placed messages), which a fine-tuning upload would refuse.

    An assistant message placed by hand is not model output: it gets `"weight": 0`, which OpenAI's
    chat fine-tuning format reads as context, not to be learned. "Reply" above means a model's reply,
    so a line ends with one, and a thread whose only assistant messages were placed is left out.
    """
    lines = []
    for export in _load(store, thread_ids, include_incomplete):
        chat = [m for m in export.messages if m.content and m.role in ("system", "user", "assistant")]
        last_reply = max((i for i, m in enumerate(chat) if m.role == "assistant" and not m.placed), default=None)
        if last_reply is None or not any(m.role == "user" for m in chat[:last_reply]):
            continue  # no completed exchange
        chat = chat[: last_reply + 1]
        first_reply = next(m for m in chat if m.role == "assistant" and not m.placed)
        messages: list[dict[str, Any]] = []
        version = export.version(first_reply)
        if version and version.config.instructions:
            messages.append({"role": "system", "content": version.config.instructions})
        first = len(messages)
        for m in chat:
            message: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.placed and m.role == "assistant":
                message["weight"] = 0  # placed by hand: context, never trained as the model's output
            messages.append(message)
        line: dict[str, Any] = {"messages": messages}
        if metadata:
            line["metadata"] = {
                "thread_id": export.thread.id,
                "title": export.thread.title,
                "assistant": export.assistant,
                "versions": sorted({v.number for m in chat if (v := export.version(m)) is not None}),
                # The model of the same reply the system message comes from, so the two describe one setup.
                "model": export.model(first_reply),
            }
            placed = [first + n for n, m in enumerate(chat) if m.placed]
            if placed:
                line["metadata"]["placed"] = placed  # indexes into `messages` of those placed by hand
        lines.append(json.dumps(line, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


# -- CSV -------------------------------------------------------------------------------------------


def conversation_csv(store: Store, thread_ids: Iterable[int], *, include_incomplete: bool = True) -> str:
    """Every message as a row (columns in CSV_COLUMNS); the csv module quotes commas, quotes and newlines.

    All statuses by default: this is the log as it happened, and the status column says which replies
    were cut off or failed. A cell that a spreadsheet would run as a formula (a message starting with
    `=`, say) gets one leading apostrophe (see `csv_text`); `read_csv` takes it off again, so the text
    round-trips exactly through the app, and a spreadsheet shows it as text.
    """
    rows = []
    for export in _load(store, thread_ids, include_incomplete):
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
            )
    return csv_text(CSV_COLUMNS, rows)


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
    return [{k: _restore(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text, newline=""))]


def _neutralise(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and _NEUTRALISED.match(value) else value


def _restore(cell: str | None) -> str | None:
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
            if isinstance(cells.get(key), float):
                cells[key] = f"{cells[key]:.10f}".rstrip("0").rstrip(".") or "0"
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
