"""The assistant config: every field a user can set, its validation, and its JSON form.

JSON-valued fields (function parameters, the response JSON schema) are kept as the text the user
typed, so a draft can hold an edit that does not parse yet and nothing the user wrote is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import jsonschema

from playground.settings import DEFAULT_MODEL

# Limits from the OpenAI API (../shared/notes/openai-api-2026.md §3).
NAME_MAX = 256
DESCRIPTION_MAX = 512
INSTRUCTIONS_MAX = 256_000
TOOLS_MAX = 128
CODE_FILES_MAX = 20
VECTOR_STORES_MAX = 2
METADATA_PAIRS_MAX = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
MAX_OUTPUT_TOKENS_MIN = 16
# Checked with fullmatch: `$` with match lets a trailing newline through, which upstream refuses.
IDENT_RE = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# A variable is named like an identifier, so `{{ name }}` can never be mistaken for other braces.
VARIABLE_NAME_MAX = 64
VARIABLE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A test case's own fields: in a cases file (CSV columns, JSONL keys) a variable so named could not be
# told apart from them.
RESERVED_VARIABLE_NAMES = ("input", "expected", "tags")
# `{{name}}` or `{{ name }}` (spaces or tabs only). A dotted `{{ item.x }}` is not a variable here: it
# stays text, as do braces around a name that was not declared.
PLACEHOLDER_RE = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\}\}")

RESPONSE_FORMATS = ("auto", "text", "json_object", "json_schema")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
RANKERS = ("auto", "default-2024-11-15")
# JSON nested past Python's recursion limit cannot be read or checked; said, never raised.
TOO_DEEP = "Nested too deeply to check (over several hundred levels); flatten it."

EMPTY_OBJECT_SCHEMA = '{\n  "type": "object",\n  "properties": {},\n  "additionalProperties": false\n}'


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, worded for the person editing it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class FunctionTool:
    name: str = ""
    description: str = ""
    parameters: str = EMPTY_OBJECT_SCHEMA  # JSON Schema text, as typed
    strict: bool = False


@dataclass
class FileSearch:
    enabled: bool = False
    vector_store_ids: list[str] = field(default_factory=list)
    max_num_results: int | None = None
    ranker: str | None = None
    score_threshold: float | None = None


@dataclass
class CodeInterpreter:
    enabled: bool = False
    file_ids: list[str] = field(default_factory=list)


@dataclass
class ResponseFormat:
    type: str = "auto"
    name: str = "response"
    schema: str = EMPTY_OBJECT_SCHEMA  # JSON Schema text, as typed
    strict: bool = True
    description: str = ""


@dataclass
class Variable:
    """A name the instructions and inputs may use as `{{name}}`, with the value a chat turn gives it."""

    name: str = ""
    default: str = ""


@dataclass
class AssistantConfig:
    name: str = ""
    description: str = ""
    instructions: str = ""
    model: str = DEFAULT_MODEL
    file_search: FileSearch = field(default_factory=FileSearch)
    code_interpreter: CodeInterpreter = field(default_factory=CodeInterpreter)
    functions: list[FunctionTool] = field(default_factory=list)
    # None leaves sampling to the model; reasoning models refuse these (see sampling_problem).
    temperature: float | None = None
    top_p: float | None = None
    response_format: ResponseFormat = field(default_factory=ResponseFormat)
    reasoning_effort: str | None = None
    max_output_tokens: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # On a Conversations thread, let the API drop the oldest items when the thread outgrows the
    # context (`truncation: "auto"`); off, it refuses instead. Chat threads always trim (chat.trim).
    truncation: bool = False
    # Declared, in order: only these names are filled in `{{name}}` (see `fill`); chat turns use the defaults.
    variables: list[Variable] = field(default_factory=list)

    # -- variables ----------------------------------------------------------------------------

    def values(self, given: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every declared name with its value: the given one (a test case's), else the default.

        Names given but not declared are left out, so they are never filled in.
        """
        given = given or {}
        out: dict[str, str] = {}
        for v in self.variables:
            if v.name not in out:  # a duplicate is a validation problem; the first one counts meanwhile
                out[v.name] = given.get(v.name, v.default)
        return out

    def filled(self, given: Mapping[str, str] | None = None) -> AssistantConfig:
        """The config as a turn sends it: the instructions with the variables filled in (itself when it
        declares none)."""
        if not self.variables:
            return self
        return replace(self, instructions=fill(self.instructions, self.values(given)))

    # -- JSON ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        # sort_keys makes equal configs byte-equal, so "did anything change?" is a string compare.
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssistantConfig:
        data = dict(data)
        fs = FileSearch(**data.pop("file_search", None) or {})
        ci = CodeInterpreter(**data.pop("code_interpreter", None) or {})
        rf_data = dict(data.pop("response_format", None) or {})
        if isinstance(rf_data.get("schema"), (dict, list)):
            rf_data["schema"] = json.dumps(rf_data["schema"], indent=2)
        rf = ResponseFormat(**rf_data)
        functions = []
        for f in data.pop("functions", None) or []:
            f = dict(f)
            if isinstance(f.get("parameters"), (dict, list)):
                f["parameters"] = json.dumps(f["parameters"], indent=2)
            functions.append(FunctionTool(**f))
        # A config saved before variables existed has none.
        variables = [Variable(**v) for v in data.pop("variables", None) or []]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(
            file_search=fs,
            code_interpreter=ci,
            response_format=rf,
            functions=functions,
            variables=variables,
            **known,
        )

    @classmethod
    def from_json(cls, text: str) -> AssistantConfig:
        return cls.from_dict(json.loads(text))

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> list[FieldError]:
        """Every problem at once, each tied to the field it is about. Empty means valid."""
        errors: list[FieldError] = []

        def err(name: str, message: str) -> None:
            errors.append(FieldError(name, message))

        _check_length(err, "name", self.name, NAME_MAX)
        _check_length(err, "description", self.description, DESCRIPTION_MAX)
        _check_length(err, "instructions", self.instructions, INSTRUCTIONS_MAX)
        if not (self.model or "").strip():
            err("model", "Choose a model.")
        elif any(c.isspace() for c in self.model.strip()):
            err("model", "A model id has no spaces (for example gpt-4.1-mini).")

        if self.temperature is not None and not _in_range(self.temperature, 0, 2):
            err("temperature", f"Temperature must be between 0 and 2; it is {self.temperature}.")
        if self.top_p is not None and not _in_range(self.top_p, 0, 1):
            err("top_p", f"Top P must be between 0 and 1; it is {self.top_p}.")
        if self.temperature is not None or self.top_p is not None:
            refused = sampling_problem(self.model, self.reasoning_effort)
            if refused:
                for name in ("temperature", "top_p"):
                    if getattr(self, name) is not None:
                        err(name, refused)
        if self.reasoning_effort is not None and self.reasoning_effort not in REASONING_EFFORTS:
            err("reasoning_effort", f"Reasoning effort must be one of {', '.join(REASONING_EFFORTS)}.")
        if self.max_output_tokens is not None:
            if not isinstance(self.max_output_tokens, int) or isinstance(self.max_output_tokens, bool):
                err("max_output_tokens", "Max output tokens must be a whole number.")
            elif self.max_output_tokens < MAX_OUTPUT_TOKENS_MIN:
                err("max_output_tokens", f"Max output tokens must be at least {MAX_OUTPUT_TOKENS_MIN}.")

        self._validate_tools(err)
        self._validate_response_format(err)
        _validate_metadata(err, self.metadata)
        _validate_variables(err, self.variables)
        return errors

    def _validate_tools(self, err: Any) -> None:
        fs = self.file_search
        if fs.enabled:
            ids = [i for i in fs.vector_store_ids if i.strip()]
            if not ids:
                err("file_search.vector_store_ids", "File search needs at least one vector store.")
            elif len(ids) > VECTOR_STORES_MAX:
                err("file_search.vector_store_ids", f"At most {VECTOR_STORES_MAX} vector stores.")
            if fs.max_num_results is not None and not (
                isinstance(fs.max_num_results, int) and 1 <= fs.max_num_results <= 50
            ):
                err("file_search.max_num_results", "Max results must be a whole number from 1 to 50.")
            if fs.ranker is not None and fs.ranker not in RANKERS:
                err("file_search.ranker", f"Ranker must be one of {', '.join(RANKERS)}.")
            if fs.score_threshold is not None and not _in_range(fs.score_threshold, 0, 1):
                err("file_search.score_threshold", "Score threshold must be between 0 and 1.")
        ci = self.code_interpreter
        if ci.enabled and len(ci.file_ids) > CODE_FILES_MAX:
            err("code_interpreter.file_ids", f"At most {CODE_FILES_MAX} files for the code interpreter.")

        total = len(self.functions) + int(fs.enabled) + int(ci.enabled)
        if total > TOOLS_MAX:
            err("tools", f"At most {TOOLS_MAX} tools; this assistant has {total}.")
        seen: set[str] = set()
        for i, fn in enumerate(self.functions):
            where = f"functions[{i}]"
            if not IDENT_RE.fullmatch(fn.name or ""):
                err(f"{where}.name", "A function name is 1–64 letters, digits, _ or - (no spaces).")
            elif fn.name in seen:
                err(f"{where}.name", f"Another function is already named {fn.name!r}.")
            seen.add(fn.name)
            for message in schema_problems(fn.parameters, strict=fn.strict):
                err(f"{where}.parameters", message)

    def _validate_response_format(self, err: Any) -> None:
        rf = self.response_format
        if rf.type not in RESPONSE_FORMATS:
            err("response_format.type", f"Response format must be one of {', '.join(RESPONSE_FORMATS)}.")
            return
        if rf.type == "json_object" and "json" not in self.instructions.lower():
            # The API rejects JSON mode unless the word JSON appears in the context.
            err("instructions", "JSON mode needs the word “JSON” in the instructions.")
        if rf.type == "json_schema":
            if not IDENT_RE.fullmatch(rf.name or ""):
                err("response_format.name", "The schema name is 1–64 letters, digits, _ or -.")
            for message in schema_problems(rf.schema, strict=rf.strict):
                err("response_format.schema", message)


_REASONING_RE = re.compile(r"^(o\d|gpt-[5-9])")
# gpt-5.1 and later take temperature and top_p when they do not reason (effort "none").
_POINT_RELEASE_RE = re.compile(r"^gpt-(5\.[1-9]|[6-9])")


def is_reasoning_model(model: str) -> bool:
    """Models that take a reasoning effort (o-series, gpt-5 family); the -chat variants do not."""
    model = (model or "").strip()
    return bool(_REASONING_RE.match(model)) and "-chat" not in model


def sampling_problem(model: str, effort: str | None) -> str | None:
    """Why this model refuses temperature and Top P, or None when it takes them.

    The API answers 400 "Unsupported parameter: 'temperature'" for the o-series and gpt-5,
    gpt-5-mini and gpt-5-nano, and for gpt-5.1 and later unless reasoning effort is "none"
    (their default). Checked here so the user sees it on the field, before any request.
    """
    if not is_reasoning_model(model):
        return None
    name = model.strip()
    if _POINT_RELEASE_RE.match(name):
        if effort in (None, "none"):
            return None
        return f"{name} takes temperature and Top P only with reasoning effort “none”; leave them to the model."
    return f"{name} is a reasoning model and does not take temperature or Top P; leave them to the model."


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse editor text into a JSON object, or say in one sentence why it is not one."""
    try:
        value = json.loads(text)
    except RecursionError:
        return None, TOO_DEEP
    except (TypeError, ValueError) as e:
        line = getattr(e, "lineno", None)
        col = getattr(e, "colno", None)
        where = f" (line {line}, column {col})" if line else ""
        return None, f"Not valid JSON{where}: {getattr(e, 'msg', str(e))}."
    if not isinstance(value, dict):
        return None, "Must be a JSON object, starting with {."
    return value, None


def schema_problems(text: str, *, strict: bool = False) -> list[str]:
    """Why `text` is not a usable JSON Schema object (and, when strict, not strict-mode ready)."""
    schema, problem = parse_json_object(text)
    if problem:
        return [problem]
    assert schema is not None
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
        if schema.get("type") not in (None, "object"):
            return ['The top level must be an object schema ("type": "object").']
        if strict and schema.get("type") != "object":
            # Structured outputs take only an object at the root, said explicitly (no anyOf there).
            return ['Strict mode: the top level needs "type": "object".', *strict_problems(schema)]
        return strict_problems(schema) if strict else []
    except jsonschema.SchemaError as e:
        path = "/".join(_shown(str(p)) for p in e.absolute_path) or "(top level)"
        return [f"Not a valid JSON Schema at {path}: {e.message}"]
    except RecursionError:
        return [TOO_DEEP]


def strict_problems(schema: dict[str, Any], path: str = "") -> list[str]:
    """Strict mode needs every object closed and every property required (OpenAI structured outputs)."""
    problems: list[str] = []
    if not isinstance(schema, dict):
        return problems
    here = path or "(top level)"
    props = schema.get("properties")
    kind = schema.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind) or isinstance(props, dict)
    if is_object:
        if schema.get("additionalProperties") is not False:
            problems.append(f'Strict mode: {here} needs "additionalProperties": false.')
        if isinstance(props, dict):
            missing = sorted(set(props) - set(schema.get("required") or []))
            if missing:
                problems.append(f"Strict mode: {here} must list every property in required; missing {missing}.")
            for name, sub in props.items():
                problems.extend(strict_problems(sub, f"{path}.{_shown(name)}" if path else _shown(name)))
    if isinstance(schema.get("items"), dict):
        problems.extend(strict_problems(schema["items"], f"{path}[]"))
    for i, sub in enumerate(schema.get("prefixItems") or []):
        problems.extend(strict_problems(sub, f"{path}[{i}]"))
    for key in ("anyOf", "allOf", "oneOf"):
        for i, sub in enumerate(schema.get(key) or []):
            problems.extend(strict_problems(sub, f"{here}.{key}[{i}]"))
    for defs in ("$defs", "definitions"):
        for name, sub in (schema.get(defs) or {}).items():
            problems.extend(strict_problems(sub, f"{defs}.{_shown(name)}"))
    return problems


# -- the JSON shape of a config made elsewhere (an imported version file) --------------------------


@dataclass(frozen=True)
class _Object:
    fields: dict[str, Any] | None  # None: any keys (metadata)
    nullable: bool = False  # null means the defaults (what `from_dict` does with it)


@dataclass(frozen=True)
class _List:
    item: Any
    nullable: bool = False


_SCALARS: dict[str, Any] = {
    "text": lambda v: isinstance(v, str),
    "text or null": lambda v: v is None or isinstance(v, str),
    "true or false": lambda v: isinstance(v, bool),
    "a number or null": lambda v: v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)),
    # A JSON Schema as typed, or as JSON (from_dict turns it into text).
    "text or an object": lambda v: isinstance(v, (str, dict, list)),
}
_CONFIG_SHAPE = _Object(
    {
        "name": "text",
        "description": "text",
        "instructions": "text",
        "model": "text",
        "file_search": _Object(
            {
                "enabled": "true or false",
                "vector_store_ids": _List("text"),
                "max_num_results": "a number or null",
                "ranker": "text or null",
                "score_threshold": "a number or null",
            },
            nullable=True,
        ),
        "code_interpreter": _Object({"enabled": "true or false", "file_ids": _List("text")}, nullable=True),
        "functions": _List(
            _Object(
                {"name": "text", "description": "text", "parameters": "text or an object", "strict": "true or false"}
            ),
            nullable=True,
        ),
        "temperature": "a number or null",
        "top_p": "a number or null",
        "response_format": _Object(
            {
                "type": "text",
                "name": "text",
                "schema": "text or an object",
                "strict": "true or false",
                "description": "text",
            },
            nullable=True,
        ),
        "reasoning_effort": "text or null",
        "max_output_tokens": "a number or null",
        "metadata": _Object(None),
        "truncation": "true or false",
        "variables": _List(_Object({"name": "text", "default": "text"}), nullable=True),
    }
)


def shape_problems(data: Any) -> list[FieldError]:
    """Fields of a config's JSON that have the wrong type, each named with what it should be.

    For configs made elsewhere (an imported version file): `from_dict` trusts its input, and a
    wrong type there fails with the constructor's words ("dictionary update sequence element #0 has
    length 1") or is silently misread (an id string taken as a list of letters). Range and content
    checks stay in `validate`. Unknown top-level keys are ignored, as `from_dict` ignores them.
    """
    problems: list[FieldError] = []
    _check_shape(data, _CONFIG_SHAPE, "", problems)
    return problems


def _check_shape(value: Any, shape: Any, path: str, problems: list[FieldError]) -> None:
    if isinstance(shape, _Object):
        if value is None and shape.nullable:
            return
        if not isinstance(value, dict):
            problems.append(FieldError(path or "config", f"must be an object, not {_kind(value)}"))
            return
        if shape.fields is None:  # any keys (metadata)
            return
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in shape.fields:
                _check_shape(item, shape.fields[key], where, problems)
            elif path:
                problems.append(FieldError(where, "is not a field"))
    elif isinstance(shape, _List):
        if value is None and shape.nullable:
            return
        if not isinstance(value, list):
            problems.append(FieldError(path, f"must be a list, not {_kind(value)}"))
            return
        for i, item in enumerate(value):
            _check_shape(item, shape.item, f"{path}[{i}]", problems)
    elif not _SCALARS[shape](value):
        problems.append(FieldError(path, f"must be {shape}, not {_kind(value)}"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{{name}}` (or `{{ name }}`) of `values` replaced by its value.

    Anything else stays as typed: JSON braces, `{{unknown}}`, `{{ item.x }}`. One pass, so a value
    holding `{{name}}` is put in as it is and never filled in turn.
    """
    if not values or "{{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return PLACEHOLDER_RE.sub(value, text)


def display_name(name: str | None, assistant_id: int) -> str:
    """How an assistant is named to people: new ones have no name until typed."""
    return name or f"Untitled assistant #{assistant_id}"


def _shown(name: str) -> str:
    """A schema key as it reads in a one-line message: control characters escaped ("\\n")."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _check_length(err: Any, name: str, value: str, limit: int) -> None:
    if len(value or "") > limit:
        err(name, f"At most {limit:,} characters; this has {len(value):,}.")


def _in_range(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _validate_metadata(err: Any, metadata: dict[str, str]) -> None:
    if len(metadata) > METADATA_PAIRS_MAX:
        err("metadata", f"At most {METADATA_PAIRS_MAX} pairs; there are {len(metadata)}.")
    for key, value in metadata.items():
        if not key:
            err("metadata", "A metadata key cannot be empty.")
        elif len(key) > METADATA_KEY_MAX:
            err(
                f"metadata.{key}",
                f"The key {_shown(key[:20])}… has {len(key):,} characters; keys are at most {METADATA_KEY_MAX}.",
            )
        if not isinstance(value, str):
            err(f"metadata.{key}", "Values must be text.")
        elif len(value) > METADATA_VALUE_MAX:
            err(f"metadata.{key}", f"Values are at most {METADATA_VALUE_MAX} characters.")


def _validate_variables(err: Any, variables: list[Variable]) -> None:
    seen: set[str] = set()
    for i, v in enumerate(variables):
        where = f"variables[{i}].name"
        name = v.name if isinstance(v.name, str) else ""
        if not name:
            err(where, "A variable needs a name.")
        elif len(name) > VARIABLE_NAME_MAX:
            err(where, f"A variable name is at most {VARIABLE_NAME_MAX} characters; this has {len(name):,}.")
        elif not VARIABLE_NAME_RE.fullmatch(name):
            err(
                where,
                f"The variable name {_shown(name[:40])!r} is not usable: letters, digits and _, "
                "not starting with a digit (no spaces).",
            )
        elif name.lower() in RESERVED_VARIABLE_NAMES:  # a CSV's header is read whatever its case
            fields = ", ".join(RESERVED_VARIABLE_NAMES)
            err(where, f"{name!r} is a test case's own field ({fields}); choose another name.")
        elif name in seen:
            err(where, f"Another variable is already named {name!r}.")
        seen.add(name)
        if not isinstance(v.default, str):
            err(f"variables[{i}].default", "A default value must be text.")
