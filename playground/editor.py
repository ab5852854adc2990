"""The configuration panel's logic: config ⇄ widget values, the save status line.

Widget values live under keys "cfg.<field>", so the page only lays widgets out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from playground.assistant import (
    EMPTY_OBJECT_SCHEMA,
    AssistantConfig,
    CodeInterpreter,
    FieldError,
    FileSearch,
    FunctionTool,
    ResponseFormat,
    Variable,
)
from playground.store import Store, Version

MODEL_DEFAULT = "(model default)"

# Ready-made functions to start from (the tools editor offers them).
FUNCTION_EXAMPLES: dict[str, FunctionTool] = {
    "get_weather": FunctionTool(
        name="get_weather",
        description="Get the current weather for a city.",
        parameters=json.dumps(
            {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "unit"],
                "additionalProperties": False,
            },
            indent=2,
        ),
        strict=True,
    ),
    "get_current_time": FunctionTool(
        name="get_current_time",
        description="The current date and time in an IANA time zone.",
        parameters=json.dumps(
            {
                "type": "object",
                "properties": {"timezone": {"type": "string", "description": "e.g. Europe/Paris"}},
                "required": ["timezone"],
                "additionalProperties": False,
            },
            indent=2,
        ),
        strict=True,
    ),
    "blank": FunctionTool(name="my_function", description="", parameters=EMPTY_OBJECT_SCHEMA, strict=False),
}


BASE_KEY = "cfg._base"  # the config the panel was loaded from, as JSON


def to_state(config: AssistantConfig) -> dict[str, Any]:
    """Widget values for a config (what the panel shows when an assistant is opened)."""
    fs, rf = config.file_search, config.response_format
    state: dict[str, Any] = {
        BASE_KEY: config.to_json(),
        "cfg.name": config.name,
        "cfg.description": config.description,
        "cfg.instructions": config.instructions,
        "cfg.model": config.model,
        "cfg.file_search": fs.enabled,
        "cfg.vector_store_ids": ", ".join(fs.vector_store_ids),
        "cfg.max_num_results": fs.max_num_results,
        "cfg.ranker": fs.ranker or MODEL_DEFAULT,
        "cfg.score_threshold": fs.score_threshold,
        "cfg.code_interpreter": config.code_interpreter.enabled,
        "cfg.code_file_ids": ", ".join(config.code_interpreter.file_ids),
        "cfg.functions_on": bool(config.functions),
        "cfg.fn_count": len(config.functions),
        "cfg.sampling": config.temperature is not None or config.top_p is not None,
        "cfg.temperature": _or_one(config.temperature),
        "cfg.top_p": _or_one(config.top_p),
        "cfg.response_format": rf.type,
        "cfg.schema_name": rf.name,
        "cfg.schema_description": rf.description,
        "cfg.schema": rf.schema,
        "cfg.schema_strict": rf.strict,
        "cfg.reasoning_effort": config.reasoning_effort or MODEL_DEFAULT,
        "cfg.max_output_tokens": config.max_output_tokens,
        "cfg.truncation": config.truncation,
        "cfg.metadata": [{"key": k, "value": v} for k, v in config.metadata.items()],
        "cfg.variables": variables_to_rows(config.variables),
    }
    for i, fn in enumerate(config.functions):
        state[f"cfg.fn.{i}.name"] = fn.name
        state[f"cfg.fn.{i}.description"] = fn.description
        state[f"cfg.fn.{i}.parameters"] = fn.parameters
        state[f"cfg.fn.{i}.strict"] = fn.strict
    return state


def from_state(state: Mapping[str, Any]) -> AssistantConfig:
    """The config the widgets currently describe.

    A value with no widget in `state` (a widget not drawn now, or a field the panel has no widget
    for) comes from the config the panel was loaded from, so an edit never drops a field.
    """
    base = AssistantConfig.from_json(state[BASE_KEY]) if state.get(BASE_KEY) else AssistantConfig()
    unset = object()

    def get(key: str, default: Any, nullable: bool = False) -> Any:
        value = state.get(f"cfg.{key}", unset)
        return default if value is unset or (value is None and not nullable and default is not None) else value

    functions = base.functions
    if "cfg.functions_on" in state or "cfg.fn_count" in state:
        functions = []
        if get("functions_on", False):
            for i in range(int(get("fn_count", 0) or 0)):
                old = base.functions[i] if i < len(base.functions) else FunctionTool()
                functions.append(
                    FunctionTool(
                        name=str(get(f"fn.{i}.name", old.name)).strip(),
                        description=str(get(f"fn.{i}.description", old.description)),
                        parameters=str(get(f"fn.{i}.parameters", old.parameters)),
                        strict=bool(get(f"fn.{i}.strict", old.strict)),
                    )
                )
    fs, rf = base.file_search, base.response_format
    sampling = get("sampling", base.temperature is not None or base.top_p is not None)
    effort = get("reasoning_effort", base.reasoning_effort or MODEL_DEFAULT)
    ranker = get("ranker", fs.ranker or MODEL_DEFAULT)
    return AssistantConfig(
        name=str(get("name", base.name)),
        description=str(get("description", base.description)),
        instructions=str(get("instructions", base.instructions)),
        model=str(get("model", base.model)).strip(),
        file_search=FileSearch(
            enabled=bool(get("file_search", fs.enabled)),
            vector_store_ids=split_ids(get("vector_store_ids", ", ".join(fs.vector_store_ids))),
            max_num_results=_int_or_none(get("max_num_results", fs.max_num_results, nullable=True)),
            ranker=None if ranker in (None, "", MODEL_DEFAULT) else str(ranker),
            score_threshold=_float_or_none(get("score_threshold", fs.score_threshold, nullable=True)),
        ),
        code_interpreter=CodeInterpreter(
            enabled=bool(get("code_interpreter", base.code_interpreter.enabled)),
            file_ids=split_ids(get("code_file_ids", ", ".join(base.code_interpreter.file_ids))),
        ),
        functions=functions,
        temperature=_float_or_none(get("temperature", _or_one(base.temperature))) if sampling else None,
        top_p=_float_or_none(get("top_p", _or_one(base.top_p))) if sampling else None,
        response_format=ResponseFormat(
            type=str(get("response_format", rf.type)),
            name=str(get("schema_name", rf.name)).strip(),
            schema=str(get("schema", rf.schema)),
            strict=bool(get("schema_strict", rf.strict)),
            description=str(get("schema_description", rf.description)),
        ),
        reasoning_effort=None if effort in (None, "", MODEL_DEFAULT) else str(effort),
        max_output_tokens=_int_or_none(get("max_output_tokens", base.max_output_tokens, nullable=True)),
        metadata=rows_to_metadata(get("metadata", [{"key": k, "value": v} for k, v in base.metadata.items()])),
        truncation=bool(get("truncation", base.truncation)),
        variables=rows_to_variables(get("variables", variables_to_rows(base.variables))),
    )


def _or_one(value: float | None) -> float:
    """A sampling slider's value when the config leaves it unset (0.0 is a real setting)."""
    return 1.0 if value is None else float(value)


def commit(store: Store, assistant_id: int, config: AssistantConfig, note: str = "") -> tuple[Version | None, list]:
    """Keep the config as the draft and, when it is valid, as a version (the latest, if unchanged).

    Every Create/Update, send, retry and function answer goes through here, so every reply is
    stamped with the version that produced it. Returns (version, []) or (None, problems).
    """
    problems = config.validate()
    store.save_draft(assistant_id, config)
    if problems:
        return None, problems
    version, _ = store.save_version(assistant_id, config, note=note)
    return version, []


def duplicate_keys(rows: Any) -> list[str]:
    """Metadata keys typed more than once (only the last value would be kept)."""
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    seen: set[str] = set()
    twice: list[str] = []
    for row in rows or []:
        key = _cell(row.get("key")).strip()
        if key and key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def split_ids(text: str) -> list[str]:
    return [part.strip() for part in str(text or "").replace("\n", ",").split(",") if part.strip()]


def rows_to_metadata(rows: Any) -> dict[str, str]:
    """Key/value rows from the metadata table; blank rows are ignored, values are text."""
    if hasattr(rows, "to_dict"):  # a DataFrame from st.data_editor
        rows = rows.to_dict("records")
    out: dict[str, str] = {}
    for row in rows or []:
        key, value = _cell(row.get("key")).strip(), _cell(row.get("value"))
        if key or value:
            out[key] = value
    return out


def variables_to_rows(variables: list[Variable]) -> list[dict[str, str]]:
    return [{"name": v.name, "default": v.default} for v in variables]


def rows_to_variables(rows: Any) -> list[Variable]:
    """Name/default rows from the variables table, in order; blank rows are ignored. Duplicates and bad
    names are kept, so validation can mark them rather than the table dropping what was typed."""
    if hasattr(rows, "to_dict"):  # a DataFrame from st.data_editor
        rows = rows.to_dict("records")
    out: list[Variable] = []
    for row in rows or []:
        name, default = _cell(row.get("name")).strip(), _cell(row.get("default"))
        if name or default:
            out.append(Variable(name, default))
    return out


def _cell(value: Any) -> str:
    """A data-editor cell as text: an empty cell arrives as None, NaN (NaN != NaN) or pandas' NA."""
    if value is None:
        return ""
    try:
        return "" if value != value else str(value)
    except TypeError:  # pd.NA: its comparisons are NA, which has no truth value
        return ""


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def errors_for(errors: list[FieldError], *prefixes: str) -> list[str]:
    """Messages for the fields a widget shows (exact name or a sub-field of it)."""
    return [e.message for e in errors if any(e.field == p or e.field.startswith((p + ".", p + "[")) for p in prefixes)]


def save_status(
    *,
    draft: AssistantConfig,
    latest_number: int | None,
    latest: AssistantConfig | None,
    draft_updated_at: float | None,
    timezone: str | None = None,
) -> str:
    """The one-line status under the panel's actions: whether the draft is the latest version.

    Every edit is kept as the draft; only Update (or Create) and sending make a version, so a draft
    that differs from the latest version says what will make it one.
    """
    if latest is not None and draft.to_json() == latest.to_json():
        return f"v{latest_number} saved"
    if draft_updated_at is None:
        return "New assistant"
    saved = f"Draft saved {clock(draft_updated_at, timezone)}"
    if draft.validate():
        return f"{saved} · fix the fields marked in red before it can become a version"
    if latest is None:
        return f"{saved} · press Create to make version 1"
    return f"{saved} · Update or send to make v{(latest_number or 0) + 1}"


def shutdown_notice(model: str, shutdown_date: str | None, today: dt.date | None = None) -> tuple[str, bool] | None:
    """What to say about a model's announced shutdown: (sentence, already past), or None."""
    if not shutdown_date:
        return None
    try:
        when = dt.date.fromisoformat(shutdown_date[:10])
    except ValueError:
        return None
    day = f"{when.day} {when:%b %Y}"
    if when <= (today or dt.date.today()):
        return f"{model} was shut down on {day}; requests to it fail. Pick another model.", True
    return f"{model}: shutdown announced for {day}.", False


def _zone(timezone: str | None) -> ZoneInfo | None:
    """The viewer's time zone, or the server's when the browser gave none (or a name we cannot read)."""
    try:
        return ZoneInfo(timezone) if timezone else None
    except (KeyError, ValueError):
        return None


def clock(timestamp: float, timezone: str | None = None) -> str:
    """14:32 today, "3 Nov 14:32" on another day, in the viewer's time zone when known."""
    tz = _zone(timezone)
    when = dt.datetime.fromtimestamp(timestamp, tz)
    today = dt.datetime.now(tz).date()
    return when.strftime("%H:%M") if when.date() == today else f"{when.day} {when:%b %H:%M}"


def when(timestamp: float, timezone: str | None = None) -> str:
    """As `clock`, with the year instead of the time in another year ("3 Mar 2025"): the thread list."""
    tz = _zone(timezone)
    moment = dt.datetime.fromtimestamp(timestamp, tz)
    if moment.year != dt.datetime.now(tz).year:
        return f"{moment.day} {moment:%b %Y}"
    return clock(timestamp, timezone)
