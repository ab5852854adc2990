"""The configuration panel's logic: config ⇄ widget values, save status, when a draft becomes a version.

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
)
from playground.settings import AUTOSAVE_DELAY_S

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


def to_state(config: AssistantConfig) -> dict[str, Any]:
    """Widget values for a config (what the panel shows when an assistant is opened)."""
    state: dict[str, Any] = {
        "cfg.name": config.name,
        "cfg.description": config.description,
        "cfg.instructions": config.instructions,
        "cfg.model": config.model,
        "cfg.file_search": config.file_search.enabled,
        "cfg.vector_store_ids": ", ".join(config.file_search.vector_store_ids),
        "cfg.max_num_results": config.file_search.max_num_results,
        "cfg.code_interpreter": config.code_interpreter.enabled,
        "cfg.code_file_ids": ", ".join(config.code_interpreter.file_ids),
        "cfg.functions_on": bool(config.functions),
        "cfg.fn_count": len(config.functions),
        "cfg.temperature": 1.0 if config.temperature is None else float(config.temperature),
        "cfg.top_p": 1.0 if config.top_p is None else float(config.top_p),
        "cfg.response_format": config.response_format.type,
        "cfg.schema_name": config.response_format.name,
        "cfg.schema": config.response_format.schema,
        "cfg.schema_strict": config.response_format.strict,
        "cfg.reasoning_effort": config.reasoning_effort or MODEL_DEFAULT,
        "cfg.max_output_tokens": config.max_output_tokens,
        "cfg.metadata": [{"key": k, "value": v} for k, v in config.metadata.items()],
    }
    for i, fn in enumerate(config.functions):
        state[f"cfg.fn.{i}.name"] = fn.name
        state[f"cfg.fn.{i}.description"] = fn.description
        state[f"cfg.fn.{i}.parameters"] = fn.parameters
        state[f"cfg.fn.{i}.strict"] = fn.strict
    return state


def from_state(state: Mapping[str, Any]) -> AssistantConfig:
    """The config the widgets currently describe. Tolerates missing keys (widgets not yet drawn)."""
    base = AssistantConfig()

    def get(key: str, default: Any) -> Any:
        value = state.get(f"cfg.{key}", default)
        return default if value is None and default is not None else value

    functions = []
    if get("functions_on", False):
        for i in range(int(get("fn_count", 0) or 0)):
            functions.append(
                FunctionTool(
                    name=str(get(f"fn.{i}.name", "")).strip(),
                    description=str(get(f"fn.{i}.description", "")),
                    parameters=str(get(f"fn.{i}.parameters", EMPTY_OBJECT_SCHEMA)),
                    strict=bool(get(f"fn.{i}.strict", False)),
                )
            )
    effort = get("reasoning_effort", MODEL_DEFAULT)
    return AssistantConfig(
        name=str(get("name", "")),
        description=str(get("description", "")),
        instructions=str(get("instructions", "")),
        model=str(get("model", base.model)).strip(),
        file_search=FileSearch(
            enabled=bool(get("file_search", False)),
            vector_store_ids=split_ids(get("vector_store_ids", "")),
            max_num_results=_int_or_none(state.get("cfg.max_num_results")),
        ),
        code_interpreter=CodeInterpreter(
            enabled=bool(get("code_interpreter", False)), file_ids=split_ids(get("code_file_ids", ""))
        ),
        functions=functions,
        temperature=float(get("temperature", 1.0)),
        top_p=float(get("top_p", 1.0)),
        response_format=ResponseFormat(
            type=str(get("response_format", "auto")),
            name=str(get("schema_name", "response")).strip(),
            schema=str(get("schema", EMPTY_OBJECT_SCHEMA)),
            strict=bool(get("schema_strict", True)),
        ),
        reasoning_effort=None if effort in (None, "", MODEL_DEFAULT) else str(effort),
        max_output_tokens=_int_or_none(state.get("cfg.max_output_tokens")),
        metadata=rows_to_metadata(get("metadata", [])),
    )


def split_ids(text: str) -> list[str]:
    return [part.strip() for part in str(text or "").replace("\n", ",").split(",") if part.strip()]


def rows_to_metadata(rows: Any) -> dict[str, str]:
    """Key/value rows from the metadata table; blank rows are ignored, values are text."""
    if hasattr(rows, "to_dict"):  # a DataFrame from st.data_editor
        rows = rows.to_dict("records")
    out: dict[str, str] = {}
    for row in rows or []:
        key = str(row.get("key") or "").strip()
        value = row.get("value")
        value = "" if value is None or value != value else str(value)  # NaN from an empty cell
        if key or value:
            out[key] = value
    return out


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


def autosave_due(
    *,
    has_versions: bool,
    draft: AssistantConfig,
    latest: AssistantConfig | None,
    draft_updated_at: float,
    now: float,
    delay: float = AUTOSAVE_DELAY_S,
) -> bool:
    """A saved assistant's draft becomes a version once edits pause and it is valid and different."""
    if not has_versions or latest is None:
        return False  # a new assistant is created by the user's Create, not by a timer
    if now - draft_updated_at < delay:
        return False
    return draft.to_json() != latest.to_json() and not draft.validate()


def save_status(
    *,
    draft: AssistantConfig,
    latest_number: int | None,
    latest: AssistantConfig | None,
    latest_at: float | None,
    draft_updated_at: float | None,
    now: float,
    timezone: str | None = None,
) -> str:
    """The one-line status under the panel's actions."""
    if latest is None:
        return "Draft saved — press Create to make version 1." if draft_updated_at else "New assistant"
    if draft.to_json() == latest.to_json():
        return f"Saved at {clock(latest_at or now, timezone)} · v{latest_number}"
    if draft.validate():
        return "Unsaved changes — fix the fields marked in red (your edits are kept as a draft)."
    if draft_updated_at is not None and now - draft_updated_at >= AUTOSAVE_DELAY_S:
        return "Saving…"
    return "Unsaved changes"


def clock(timestamp: float, timezone: str | None = None) -> str:
    """14:32 today, "3 Nov 14:32" on another day, in the viewer's time zone when known."""
    try:
        tz = ZoneInfo(timezone) if timezone else None
    except (KeyError, ValueError):
        tz = None
    when = dt.datetime.fromtimestamp(timestamp, tz)
    today = dt.datetime.now(tz).date()
    return when.strftime("%H:%M") if when.date() == today else f"{when.day} {when:%b %H:%M}"
