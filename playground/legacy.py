"""Import assistants saved from the retired Assistants API (shut down 2026-08-26) as playground configs.

People kept what `client.beta.assistants.retrieve` or `.list` returned; this turns that JSON into
`AssistantConfig`s and says, one sentence per item, what did not carry over or now means something else.
Mapping facts: ../shared/notes/openai-api-2026.md §2.3, §2.7, §3.1–§3.2, §3.6.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from playground.assistant import (
    EMPTY_OBJECT_SCHEMA,
    AssistantConfig,
    CodeInterpreter,
    FileSearch,
    FunctionTool,
    ResponseFormat,
)
from playground.store import Store, to_json

# Fields of the Assistants object this module reads or knowingly skips; anything else gets a note.
_MAPPED = {
    "name",
    "description",
    "instructions",
    "model",
    "tools",
    "tool_resources",
    "temperature",
    "top_p",
    "response_format",
    "reasoning_effort",
    "metadata",
}
# Identity, not configuration: recorded in the version note instead (see import_into).
_IDENTITY = {"id", "object", "created_at"}
_DEFAULT_TRUNCATION = {"type": "auto", "last_messages": None}


@dataclass
class ImportResult:
    assistant_id: int
    name: str
    version_number: int | None  # None: kept as a draft because the config does not validate yet
    notes: list[str] = field(default_factory=list)


# -- parsing ------------------------------------------------------------------------------------


def parse(text: str) -> list[dict[str, Any]]:
    """The assistant objects in `text`: one assistant, a list page, or a bare JSON array of them."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"The text is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.") from None
    except RecursionError:
        raise ValueError("The text is nested too deeply to be an assistant.") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"The text is not valid JSON: {e}") from None

    if isinstance(value, dict) and value.get("object") == "list":
        items = value.get("data")
        if not isinstance(items, list):
            raise ValueError('This list has no "data" array of assistants.')
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        if value.get("object") == "assistant":
            return [value]
        what = _describe(value) if "object" in value else 'a JSON object with no "object" field'
        raise ValueError(f'Expected an assistant ("object": "assistant") or a list of them, but this is {what}.')
    else:
        raise ValueError(f"Expected an assistant or a list of assistants, but this is {_describe(value)}.")

    if not items:
        raise ValueError("The list holds no assistants.")
    for i, item in enumerate(items, start=1):
        if not (isinstance(item, dict) and item.get("object") == "assistant"):
            raise ValueError(f"Item {i} of the list is not an assistant; it is {_describe(item)}.")
    return items


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and a config holding them could not be stored as JSON again.
    raise ValueError(f"{name} is not a JSON value.")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        kind = value.get("object")
        if isinstance(kind, str) and kind:
            return f"a {kind!r} object"
        return "a JSON object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return "a number"
    return "a piece of text"


# -- mapping ------------------------------------------------------------------------------------


def to_config(obj: dict[str, Any]) -> tuple[AssistantConfig, list[str]]:
    """Map one Assistants object onto a config, with a note for each thing that did not carry over.

    Never raises: whatever cannot be mapped is left at its default and noted, and validation
    problems are noted too, so the user can finish the job in the editor.
    """
    notes: list[str] = []
    config = AssistantConfig(
        name=_text(obj.get("name"), "The name", notes),
        description=_text(obj.get("description"), "The description", notes),
        instructions=_text(obj.get("instructions"), "The instructions", notes),
        # An empty model fails validation, which is more honest than silently picking one.
        model=_text(obj.get("model"), "The model", notes),
        temperature=_number(obj.get("temperature"), "Temperature", notes),
        top_p=_number(obj.get("top_p"), "Top P", notes),
        reasoning_effort=_reasoning_effort(obj.get("reasoning_effort"), notes),
        metadata=_metadata(obj.get("metadata"), notes),
        response_format=_response_format(obj.get("response_format"), notes),
    )
    resources = _tool_resources(obj.get("tool_resources"), notes)
    _tools(obj.get("tools"), resources, config, notes)

    for key, value in obj.items():
        if key in _MAPPED or key in _IDENTITY or _is_default(value):
            continue
        if key == "truncation_strategy":
            if value != _DEFAULT_TRUNCATION:
                # Responses only has truncation "auto" | "disabled"; there is no last_messages.
                notes.append("The truncation strategy was left out; Responses only truncates automatically.")
        else:
            notes.append(f"The field {key!r} has no counterpart here and was left out.")

    notes.extend(str(problem) for problem in config.validate())
    return config, notes


def _text(value: Any, what: str, notes: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    converted = to_json(value)
    notes.append(f"{what} was not text; it was kept as {_short(converted)}.")
    return converted


def _number(value: Any, what: str, notes: list[str]) -> float | None:
    """A sampling value; None leaves it to the model.

    The Assistants API returned 1.0 (its default) for every assistant that never set one, and
    reasoning models refuse any value at all, so 1.0 maps to "the model's default" (None): the
    same behaviour on other models, and an o-series import that works.
    """
    if value is None or (_is_number(value) and float(value) == 1.0):
        return None
    if _is_number(value):
        return float(value)
    notes.append(f"{what} was {_short(to_json(value))}, not a number; it was left to the model.")
    return None


def _is_number(value: Any) -> TypeGuard[int | float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _reasoning_effort(value: Any, notes: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value  # an unknown word is kept and flagged by validation
    notes.append(f"The reasoning effort {_short(to_json(value))} is not a word; it was left unset.")
    return None


def _metadata(value: Any, notes: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        notes.append(f"The metadata was {_describe(value)}, not key-value pairs, and was left out.")
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str):
            out[str(key)] = item
        else:
            out[str(key)] = to_json(item)
            notes.append(f"The metadata value of {key!r} was not text; it was kept as {_short(out[str(key)])}.")
    return out


def _response_format(value: Any, notes: list[str]) -> ResponseFormat:
    if value is None or value == "auto":
        return ResponseFormat(type="auto")
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(type=kind)
    if kind != "json_schema":
        notes.append(f"The response format {_short(to_json(value))} is unknown; it was set to auto.")
        return ResponseFormat(type="auto")

    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        notes.append("The JSON schema response format had no json_schema; an empty schema was put in.")
        return ResponseFormat(type="json_schema")
    if "schema" in spec and spec["schema"] is not None:
        schema = spec["schema"] if isinstance(spec["schema"], str) else json.dumps(spec["schema"], indent=2)
    else:
        notes.append("The JSON schema response format had no schema; an empty object schema was put in.")
        schema = EMPTY_OBJECT_SCHEMA
    return ResponseFormat(
        type="json_schema",
        name=_text(spec.get("name"), "The response schema name", notes),
        schema=schema,
        # Assistants' strict defaulted to false; the config's default (true) would change meaning.
        strict=_flag(spec.get("strict"), "The response schema's strict flag", notes),
        description=_text(spec.get("description"), "The response schema description", notes),
    )


def _flag(value: Any, what: str, notes: list[str]) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    notes.append(f"{what} was {_short(to_json(value))}, not true or false; it was set to false.")
    return False


@dataclass
class _Resources:
    vector_store_ids: list[str] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)


def _tool_resources(value: Any, notes: list[str]) -> _Resources:
    resources = _Resources()
    if value is None:
        return resources
    if not isinstance(value, dict):
        notes.append(f"The tool resources were {_describe(value)} and were left out.")
        return resources
    for key, part in value.items():
        if key == "file_search" and isinstance(part, dict):
            resources.vector_store_ids = _ids(part.get("vector_store_ids"), "vector store", notes)
            if not _is_default(part.get("vector_stores")):
                # A create-time helper that built a store from files; there is no such thing here.
                notes.append("The inline vector store to create was left out; make one from its files under Tools.")
        elif key == "code_interpreter" and isinstance(part, dict):
            resources.file_ids = _ids(part.get("file_ids"), "code interpreter file", notes)
        elif not _is_default(part):
            notes.append(f"The tool resources for {key!r} were left out.")
    return resources


def _ids(value: Any, what: str, notes: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        notes.append(f"The {what} ids were {_describe(value)}, not a list, and were left out.")
        return []
    ids = [v for v in value if isinstance(v, str)]
    if len(ids) < len(value):
        notes.append(f"{len(value) - len(ids)} {what} id(s) that were not text were left out.")
    return ids


def _tools(value: Any, resources: _Resources, config: AssistantConfig, notes: list[str]) -> None:
    # Resources are kept even when their tool is off: harmless, and nothing the user had is lost.
    config.file_search = FileSearch(vector_store_ids=resources.vector_store_ids)
    config.code_interpreter = CodeInterpreter(file_ids=resources.file_ids)
    if value is None:
        return
    if not isinstance(value, list):
        notes.append(f"The tools were {_describe(value)}, not a list, and were left out.")
        return
    for i, tool in enumerate(value, start=1):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            function = _function(tool.get("function"), i, notes)
            if function is not None:
                config.functions.append(function)
        elif kind == "file_search":
            if config.file_search.enabled:
                notes.append(f"Tool {i} repeats file search and was left out.")
            else:
                _file_search(tool.get("file_search"), config.file_search, notes)
        elif kind == "code_interpreter":
            config.code_interpreter.enabled = True
        elif kind == "retrieval":
            notes.append("The retrieval tool (Assistants v1) was left out; use file search with a vector store.")
        elif isinstance(kind, str) and kind:
            notes.append(f"The {kind!r} tool has no counterpart here and was left out.")
        else:
            notes.append(f"Tool {i} has no type and was left out.")

    if config.file_search.enabled and not config.file_search.vector_store_ids:
        # Threads could attach vector stores in Assistants; a Responses request must name them.
        notes.append("File search had no vector store of its own; threads may have supplied one before.")


def _function(spec: Any, i: int, notes: list[str]) -> FunctionTool | None:
    if not isinstance(spec, dict):
        notes.append(f"Function tool {i} has no definition and was left out.")
        return None
    parameters = spec.get("parameters")
    if parameters is None:
        text = EMPTY_OBJECT_SCHEMA  # Assistants: leaving parameters out meant "no parameters"
    elif isinstance(parameters, str):
        text = parameters
    else:
        text = json.dumps(parameters, indent=2, ensure_ascii=False)
    name = _text(spec.get("name"), f"The name of function {i}", notes)
    return FunctionTool(
        name=name,
        description=_text(spec.get("description"), f"The description of function {name or i}", notes),
        parameters=text,
        strict=_flag(spec.get("strict"), f"The strict flag of function {name or i}", notes),
    )


def _file_search(spec: Any, fs: FileSearch, notes: list[str]) -> None:
    fs.enabled = True
    if spec is None:
        return
    if not isinstance(spec, dict):
        notes.append(f"The file search settings were {_describe(spec)} and were left out.")
        return
    limit = spec.get("max_num_results")
    if isinstance(limit, int) and not isinstance(limit, bool):
        fs.max_num_results = limit  # out of range is kept and flagged by validation
    elif limit is not None:
        notes.append(f"Max results for file search was {_short(to_json(limit))}, not a whole number; it was unset.")

    ranking = spec.get("ranking_options")
    if ranking is None:
        return
    if not isinstance(ranking, dict):
        notes.append(f"The file search ranking options were {_describe(ranking)} and were left out.")
        return
    ranker = ranking.get("ranker")
    if ranker == "auto":
        fs.ranker = "auto"
    elif ranker is not None:
        # Assistants' dated ranker (default_2024_08_21) is not offered by Responses (default-2024-11-15).
        fs.ranker = "auto"
        notes.append(f"The file search ranker {_short(to_json(ranker))} does not exist in Responses; it is now auto.")
    threshold = ranking.get("score_threshold")
    if _is_number(threshold):
        fs.score_threshold = float(threshold)
    elif threshold is not None:
        notes.append(f"The score threshold {_short(to_json(threshold))} is not a number; it was unset.")


def _is_default(value: Any) -> bool:
    return value is None or value == {} or value == [] or value == ""


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- importing ----------------------------------------------------------------------------------


def import_into(store: Store, text: str) -> list[ImportResult]:
    """Create one assistant per object in `text`, with version 1 when its config is valid.

    An invalid config is kept as the draft only, so nothing the user had is lost and the editor
    shows what to fix. Parsing happens first: text that is not assistants imports nothing.
    """
    results = []
    for obj in parse(text):
        config, notes = to_config(obj)
        origin = _origin(obj)
        assistant, version = store.create_assistant_from(config, note=origin)
        if version is None:
            notes.append(f"Kept as a draft ({origin}): fix the problems above, then save a version.")
        results.append(ImportResult(assistant.id, config.name, version.number if version else None, notes))
    return results


def _origin(obj: dict[str, Any]) -> str:
    """`imported from <old id>`, plus the old creation date when it is readable."""
    old_id = obj.get("id")
    note = f"imported from {old_id}" if isinstance(old_id, str) and old_id else "imported from the Assistants API"
    created = obj.get("created_at")
    if isinstance(created, int) and not isinstance(created, bool):
        try:
            when = datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError):
            return note
        note += f" (created {when:%Y-%m-%d %H:%M} UTC)"
    return note
