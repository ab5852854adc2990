"""Deterministic graders for evaluation: each gives pass/fail, a score from 0 to 1 and a reason.

Graders are written as OpenAI Evals' `testing_criteria` (a list of objects, each a "type" plus its
fields), so a team's criteria carry over. `parse(criteria)` checks every field and refuses bad input
with one sentence naming the grader and the field (`GraderError`, a ValueError); `grade(grader,
sample, item)` gives a `Verdict`.

Templating, as OpenAI's: `{{sample.output_text}}`, `{{sample.output_json.a.b[0]}}` (the output parsed
as JSON), `{{item.<field>}}` (a case's field; a name not among its fields is looked up in its
`variables`). Spaces inside the braces are allowed. A namespace other than `item` / `sample`, or a
sample field other than those two, is refused at parse time; a path the case lacks is a grader error at
grade time (a failing verdict with `error=True` and the sentence: the test data is wrong), one the
output lacks (not JSON, no such field) fails the output with that reason; never an empty string.
Values are substituted once: text that the model or a case wrote is never read as a template, and
regexes are the criteria's, never the output's. Reasons quote output escaped and cut (`quote`).

OpenAI's types (fields as in its API; `name` is required there, optional here):
- `string_check`: `input`, `reference`, `operation`: `eq` (equal), `ne` (not equal), `like` (input
  contains reference), `ilike` (contains, ignoring case). These are OpenAI's definitions, not SQL's:
  `%` and `_` are plain characters. The guide's `neq` is refused with a hint (the API says `ne`).
- `text_similarity`: `input`, `reference`, `evaluation_metric` (only `fuzzy_match` here: rapidfuzz's
  ratio after its default processing; bleu, rouge and the others are refused), `pass_threshold` (0–1).

Ours (`input` defaults to `{{sample.output_text}}` wherever it is taken):
- `contains` / `not_contains`: `input`, `value` (template), `ignore_case` (false).
- `regex`: `input`, `pattern` (Python syntax, compiled at parse time, not templated), `ignore_case`,
  `multiline`, `dotall` (false); passes when the pattern is found anywhere (a search).
- `valid_json`: `input`; passes when it parses as JSON.
- `json_schema`: `input`, `schema` (a JSON Schema object, itself checked at parse time).
- `json_field`: `input`, `path` (`a.b[0].c`), `value` (any JSON; a string is a template, and a
  string that is one template keeps the field's type): the field equals the value (true ≠ 1).
- `numeric`: `input` (a text holding only a number), `value` (a number or a template),
  `abs_tolerance` and `rel_tolerance` (0): passes within max(abs, rel × |value|).
- `similar`: `input`, `reference` (`{{item.expected}}`), `threshold` (0.8), `scorer` (`ratio`,
  `partial_ratio`, `token_sort_ratio`, `token_set_ratio`, `WRatio`): the score is the similarity.
- `max_latency` (`max_ms`), `max_cost` (`max_usd`), `max_output_tokens` (`max`): the run's figure is
  at most the limit.
- `finish_reason`: `expected`, a run status or a list of them (`completed`, `incomplete`, …).

Every type takes an optional `name` (default: the type; names must be unique in a list). A figure the
run did not report (latency, cost, output tokens, status) fails with that reason: it never passes.
Model graders (`label_model`, `score_model`), `python` and `multi` are refused: not supported here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import regex
from rapidfuzz import fuzz, utils

# A regex grader runs on model output, which no one controls: the `regex` module (Python's `re` syntax,
# VERSION0) backtracks less badly than `re` and stops a search that runs away, where `re` would hold an
# evaluation worker for as long as the pattern takes.
REGEX_TIMEOUT_S = 1.0

# The run statuses the log keeps (store.RUN_STATUSES; repeated so this module needs no database code).
FINISH_REASONS = ("in_progress", "completed", "requires_action", "incomplete", "failed", "cancelled")

STRING_CHECK_OPERATIONS = ("eq", "ne", "like", "ilike")
OPENAI_METRICS = (
    "cosine", "fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4", "rouge_5", "rouge_l",
)  # fmt: skip
SCORERS = {
    "ratio": fuzz.ratio,
    "partial_ratio": fuzz.partial_ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
}
UNSUPPORTED_TYPES = ("label_model", "score_model", "python", "multi")
OUTPUT_TEXT = "{{sample.output_text}}"
QUOTE_LIMIT = 80  # characters of model output quoted in a reason


class GraderError(ValueError):
    """Criteria that cannot be used, as one sentence naming the grader and the field."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    score: float  # 0–1
    reason: str
    error: bool = False  # the grader could not grade (a template path missing): counts as a fail


@dataclass(frozen=True)
class Sample:
    """What a run produced and its figures; None where the run did not report one."""

    output_text: str
    latency_ms: float | None = None
    cost: float | None = None  # USD, None when unknown or the model has no price
    output_tokens: int | None = None
    finish_reason: str | None = None  # the run's status: completed, incomplete, failed, …


@dataclass(frozen=True)
class Grader:
    """One parsed criterion: its type, a unique name and its checked fields."""

    type: str
    name: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


# ---------------------------------------------------------------------------------------------------
# Templating

_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
SAMPLE_FIELDS = ("output_text", "output_json")


class _Missing(Exception):
    """A template path the case lacks (a grader error), or the output lacks (`of_output`: a fail)."""

    def __init__(self, message: str, of_output: bool = False) -> None:
        super().__init__(message)
        self.of_output = of_output


def _split_path(path: str) -> list[str | int] | None:
    """`a.b[0].c` → ["a", "b", 0, "c"]; None when it is not such a path."""
    parts: list[str | int] = []
    for segment in path.split("."):
        pos = 0
        if not segment:
            return None
        while pos < len(segment):
            m = _PATH_PART.match(segment, pos)
            # A name only at the start of a segment, indexes after it.
            if not m or (m.group(1) and pos) or (m.group(2) is not None and not pos):
                return None
            parts.append(m.group(1) if m.group(1) else int(m.group(2)))
            pos = m.end()
    return parts


def _check_template(text: str, where: str) -> None:
    for m in _TEMPLATE.finditer(text):
        expr = m.group(1)
        parts = _split_path(expr)
        if not parts or parts[0] not in ("item", "sample") or len(parts) < 2 or not isinstance(parts[1], str):
            raise GraderError(
                f"{where}: {{{{{expr}}}}} is not a template this app knows: use {{{{item.<field>}}}}, "
                "{{sample.output_text}} or {{sample.output_json.<path>}}."
            )
        if parts[0] == "sample" and parts[1] not in SAMPLE_FIELDS:
            raise GraderError(
                f"{where}: {{{{{expr}}}}} names a sample field this app does not have "
                f"(it has {', '.join('sample.' + f for f in SAMPLE_FIELDS)})."
            )
        if parts[0] == "sample" and parts[1] == "output_text" and len(parts) > 2:
            raise GraderError(f"{where}: {{{{{expr}}}}}: sample.output_text is text, it has no fields.")


def _walk(value: Any, parts: Sequence[str | int], shown: str) -> Any:
    for part in parts:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                raise _Missing(f"{shown} has no item [{part}]")
            value = value[part]
        else:
            if not isinstance(value, Mapping) or part not in value:
                raise _Missing(f"{shown} has no field {part!r}")
            value = value[part]
    return value


def _lookup(expr: str, sample: Sample, item: Mapping[str, Any]) -> Any:
    parts = _split_path(expr)
    assert parts  # checked at parse time
    head, rest = str(parts[1]), parts[2:]
    if parts[0] == "item":
        variables = item.get("variables")
        if head in item:
            base = item[head]
        elif isinstance(variables, Mapping) and head in variables:
            base = variables[head]
        else:
            raise _Missing(f"the case has no field {head!r}")
        if base is None:  # an empty cell (a case without an expected answer) is missing, not "null"
            raise _Missing(f"the case's field {head!r} is empty")
        return _walk(base, rest, f"item.{head}")
    if head == "output_text":
        return sample.output_text
    try:
        parsed = json.loads(sample.output_text)
    except json.JSONDecodeError as e:
        raise _Missing(f"the output is not JSON ({e.msg} at character {e.pos})", of_output=True) from None
    try:
        return _walk(parsed, rest, "the output's JSON")
    except _Missing as e:
        raise _Missing(str(e), of_output=True) from None


def _as_text(value: Any) -> str:
    # A field that is not text is written as JSON (true, 3, {"a": 1}), as a JSON path would give it.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render(template: str, sample: Sample, item: Mapping[str, Any]) -> str:
    """A template with its {{…}} filled in; raises _Missing for a path the case or output lacks.
    One pass: braces in the substituted values stay as they are."""
    return _TEMPLATE.sub(lambda m: _as_text(_lookup(m.group(1), sample, item)), template)


def _value(template: Any, sample: Sample, item: Mapping[str, Any]) -> Any:
    """A field's value: a string that is exactly one template gives the value itself (a number stays
    a number, an object an object); other strings are rendered; anything else is taken as it is."""
    if not isinstance(template, str):
        return template
    whole = _TEMPLATE.fullmatch(template)
    if whole:
        return _lookup(whole.group(1), sample, item)
    return render(template, sample, item)


# ---------------------------------------------------------------------------------------------------
# Quoting: everything the model wrote is data


_ESCAPES = {"\\": "\\\\", '"': '\\"'}  # so a quoted \" in the output cannot end the quote


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Text for a reason: in quotes, control and invisible characters escaped, cut to `limit`."""
    cut = text if len(text) <= limit else text[:limit]
    shown = "".join(_ESCAPES.get(c) or (c if c.isprintable() else c.encode("unicode_escape").decode()) for c in cut)
    more = f"… ({len(text):,} characters)" if len(text) > limit else ""
    return f'"{shown}"{more}'


# ---------------------------------------------------------------------------------------------------
# Parsing

# Per type: the fields it accepts (beyond type, name, id) with their default; REQUIRED has none.
REQUIRED = object()
_FIELDS: dict[str, dict[str, Any]] = {
    "string_check": {"input": REQUIRED, "reference": REQUIRED, "operation": REQUIRED},
    "text_similarity": {
        "input": REQUIRED,
        "reference": REQUIRED,
        "evaluation_metric": REQUIRED,
        "pass_threshold": REQUIRED,
    },
    "contains": {"input": OUTPUT_TEXT, "value": REQUIRED, "ignore_case": False},
    "not_contains": {"input": OUTPUT_TEXT, "value": REQUIRED, "ignore_case": False},
    "regex": {"input": OUTPUT_TEXT, "pattern": REQUIRED, "ignore_case": False, "multiline": False, "dotall": False},
    "valid_json": {"input": OUTPUT_TEXT},
    "json_schema": {"input": OUTPUT_TEXT, "schema": REQUIRED},
    "json_field": {"input": OUTPUT_TEXT, "path": REQUIRED, "value": REQUIRED},
    "numeric": {"input": OUTPUT_TEXT, "value": REQUIRED, "abs_tolerance": 0.0, "rel_tolerance": 0.0},
    "similar": {"input": OUTPUT_TEXT, "reference": "{{item.expected}}", "threshold": 0.8, "scorer": "ratio"},
    "max_latency": {"max_ms": REQUIRED},
    "max_cost": {"max_usd": REQUIRED},
    "max_output_tokens": {"max": REQUIRED},
    "finish_reason": {"expected": REQUIRED},
}
TYPES = tuple(_FIELDS)
_TEXT_FIELDS = ("input", "reference", "value")  # templated when they are strings
_FLAGS = ("ignore_case", "multiline", "dotall")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _one(raw: Any, where: str) -> Grader:
    if not isinstance(raw, Mapping):
        raise GraderError(f'{where} must be an object with a "type", not {type(raw).__name__}.')
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise GraderError(f'{where} has no "type" (one of {", ".join(TYPES)}).')
    name = raw.get("name", kind)
    if not isinstance(name, str) or not name.strip():
        raise GraderError(f'{where}: field "name" must be non-empty text.')
    where = f"Grader {name!r} ({where})"
    if kind in UNSUPPORTED_TYPES:
        raise GraderError(
            f"{where}: type {kind!r} is not supported here: only the deterministic graders are ({', '.join(TYPES)})."
        )
    if kind not in _FIELDS:
        raise GraderError(f"{where}: unknown type {kind!r} (one of {', '.join(TYPES)}).")
    spec = _FIELDS[kind]
    unknown = sorted(set(raw) - set(spec) - {"type", "name", "id"})
    if unknown:
        raise GraderError(f"{where}: unknown field {unknown[0]!r} for type {kind!r} (it takes {', '.join(spec)}).")
    values: dict[str, Any] = {}
    for key, default in spec.items():
        if key in raw:
            values[key] = raw[key]
        elif default is REQUIRED:
            raise GraderError(f"{where}: field {key!r} is missing.")
        else:
            values[key] = default
    _check_fields(kind, values, where)
    return Grader(kind, name, values)


def _check_fields(kind: str, v: dict[str, Any], where: str) -> None:
    """Each field's type and range, with the sentence a user reads; compiles the regex once."""

    def need(ok: bool, key: str, what: str) -> None:
        if not ok:
            raise GraderError(f"{where}: field {key!r} must be {what}, not {json.dumps(v[key], default=str)[:60]}.")

    for key in ("input", "reference"):
        if key in v:
            need(isinstance(v[key], str), key, "text (it may hold {{…}} templates)")
            _check_template(v[key], f"{where}: field {key!r}")
    for key in _FLAGS:
        if key in v:
            need(isinstance(v[key], bool), key, "true or false")
    if kind == "string_check":
        if v["operation"] == "neq":  # the guide's spelling; the API's is "ne"
            raise GraderError(f"{where}: field 'operation' is 'neq': OpenAI's API spells it 'ne'.")
        need(v["operation"] in STRING_CHECK_OPERATIONS, "operation", f"one of {', '.join(STRING_CHECK_OPERATIONS)}")
    elif kind == "text_similarity":
        metric = v["evaluation_metric"]
        need(metric in OPENAI_METRICS, "evaluation_metric", f"one of {', '.join(OPENAI_METRICS)}")
        if metric != "fuzzy_match":
            raise GraderError(
                f"{where}: evaluation_metric {metric!r} is not supported here (only 'fuzzy_match'; "
                "for a threshold on closeness use it or the 'similar' type)."
            )
        need(_is_number(v["pass_threshold"]) and 0 <= v["pass_threshold"] <= 1, "pass_threshold", "a number 0–1")
    elif kind in ("contains", "not_contains"):
        need(isinstance(v["value"], str) and v["value"] != "", "value", "non-empty text")
        _check_template(v["value"], f"{where}: field 'value'")
    elif kind == "regex":
        need(isinstance(v["pattern"], str) and v["pattern"] != "", "pattern", "a non-empty regular expression")
        try:
            v["compiled"] = regex.compile(v["pattern"], _flags(v) | regex.VERSION0)
        except regex.error as e:
            raise GraderError(f"{where}: field 'pattern' is not a valid regular expression ({e}).") from None
    elif kind == "json_schema":
        need(isinstance(v["schema"], Mapping), "schema", "a JSON Schema object")
        try:
            jsonschema.validators.validator_for(v["schema"]).check_schema(v["schema"])
        except jsonschema.SchemaError as e:
            raise GraderError(f"{where}: field 'schema' is not a valid JSON Schema ({e.message}).") from None
    elif kind == "json_field":
        need(isinstance(v["path"], str) and _split_path(v["path"]) is not None, "path", "a path like a.b[0].c")
        if isinstance(v["value"], str):
            _check_template(v["value"], f"{where}: field 'value'")
    elif kind == "numeric":
        ok = _is_number(v["value"]) or (isinstance(v["value"], str) and _TEMPLATE.search(v["value"]) is not None)
        need(ok, "value", "a number or a {{…}} template")
        if isinstance(v["value"], str):
            _check_template(v["value"], f"{where}: field 'value'")
        for key in ("abs_tolerance", "rel_tolerance"):
            need(_is_number(v[key]) and v[key] >= 0, key, "a number ≥ 0")
    elif kind == "similar":
        need(_is_number(v["threshold"]) and 0 <= v["threshold"] <= 1, "threshold", "a number 0–1")
        need(isinstance(v["scorer"], str) and v["scorer"] in SCORERS, "scorer", f"one of {', '.join(SCORERS)}")
    elif kind in ("max_latency", "max_cost", "max_output_tokens"):
        key = next(iter(_FIELDS[kind]))
        need(_is_number(v[key]) and v[key] >= 0, key, "a number ≥ 0")
    elif kind == "finish_reason":
        expected = v["expected"]
        options = [expected] if isinstance(expected, str) else expected
        ok = isinstance(options, list) and bool(options) and all(o in FINISH_REASONS for o in options)
        need(ok, "expected", f"one of {', '.join(FINISH_REASONS)} (or a list of them)")
        v["expected"] = tuple(options)


def _flags(v: Mapping[str, Any]) -> int:
    return (
        (regex.IGNORECASE if v.get("ignore_case") else 0)
        | (regex.MULTILINE if v.get("multiline") else 0)
        | (regex.DOTALL if v.get("dotall") else 0)
    )


def parse(criteria: Any) -> list[Grader]:
    """Graders from a list of testing criteria, or an object with a `testing_criteria` list (as in
    GRADERS.json); raises GraderError with one sentence for the first bad grader or field."""
    if isinstance(criteria, Mapping):
        if "testing_criteria" not in criteria:
            raise GraderError('The graders must be a list, or an object with a "testing_criteria" list.')
        criteria = criteria["testing_criteria"]
    if not isinstance(criteria, list):
        raise GraderError('The graders must be a list, or an object with a "testing_criteria" list.')
    graders = [_one(raw, f"testing_criteria[{i}]") for i, raw in enumerate(criteria)]
    seen: set[str] = set()
    for g in graders:
        if g.name in seen:
            raise GraderError(f'Two graders are named {g.name!r}: give each a "name" of its own.')
        seen.add(g.name)
    return graders


def parse_json(text: str) -> list[Grader]:
    """Graders from GRADERS.json's text; a file that is not JSON is a GraderError too."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise GraderError(f"The graders are not valid JSON ({e}).") from None
    return parse(data)


# ---------------------------------------------------------------------------------------------------
# Grading


def _verdict(passed: bool, reason: str, score: float | None = None) -> Verdict:
    return Verdict(passed, (1.0 if passed else 0.0) if score is None else score, reason)


def grade(grader: Grader, sample: Sample, item: Mapping[str, Any]) -> Verdict:
    """One grader on one output; a template path the case or output lacks gives a failing verdict
    marked `error` with the reason, never an exception."""
    try:
        return _grade(grader, sample, item)
    except _Missing as e:
        if e.of_output:  # the model's output lacks what the template reads: the output fails
            return Verdict(False, 0.0, f"{e}.")
        return Verdict(False, 0.0, f"Grader error: {e}.", error=True)


def grade_all(graders: Sequence[Grader], sample: Sample, item: Mapping[str, Any]) -> dict[str, Verdict]:
    """Every grader on one output, by name (a case passes when all of them pass)."""
    return {g.name: grade(g, sample, item) for g in graders}


def _parse_json(text: str) -> tuple[Any, str | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"not valid JSON ({e.msg} at character {e.pos})"


def _grade(g: Grader, sample: Sample, item: Mapping[str, Any]) -> Verdict:
    kind = g.type
    text = render(g["input"], sample, item) if "input" in g.fields else ""
    if kind == "string_check":
        ref = render(g["reference"], sample, item)
        op = g["operation"]
        passed = {
            "eq": text == ref,
            "ne": text != ref,
            "like": ref in text,
            "ilike": ref.casefold() in text.casefold(),
        }[op]
        words = {"eq": "equals", "ne": "differs from", "like": "contains", "ilike": "contains (ignoring case)"}[op]
        return _verdict(passed, f"{quote(text)} {'' if passed else 'not: '}{words} {quote(ref)}")
    if kind in ("text_similarity", "similar"):
        ref = render(g["reference"], sample, item)
        threshold = g["pass_threshold"] if kind == "text_similarity" else g["threshold"]
        scorer = SCORERS["ratio" if kind == "text_similarity" else g["scorer"]]
        score = scorer(text, ref, processor=utils.default_process) / 100.0
        op = "≥" if score >= threshold else "<"
        return _verdict(score >= threshold, f"similarity {score:.2f} {op} {threshold} to {quote(ref)}", score)
    if kind in ("contains", "not_contains"):
        value = render(g["value"], sample, item)
        hay, needle = (text.casefold(), value.casefold()) if g["ignore_case"] else (text, value)
        found = needle in hay
        passed = found if kind == "contains" else not found
        return _verdict(passed, f"{quote(value)} {'found' if found else 'not found'} in {quote(text)}")
    if kind == "regex":
        try:
            m = g["compiled"].search(text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            why = f"/{g['pattern']}/ took more than {REGEX_TIMEOUT_S:g} s on this output; simplify the pattern"
            return Verdict(False, 0.0, f"Grader error: {why}.", error=True)
        if m:
            return _verdict(True, f"/{g['pattern']}/ matched {quote(m.group(0))}")
        return _verdict(False, f"/{g['pattern']}/ not found in {quote(text)}")
    if kind == "valid_json":
        _, problem = _parse_json(text)
        return _verdict(problem is None, "valid JSON" if problem is None else f"{quote(text)} is {problem}")
    if kind == "json_schema":
        data, problem = _parse_json(text)
        if problem:
            return _verdict(False, f"{quote(text)} is {problem}")
        schema = g["schema"]
        error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(schema)(schema).iter_errors(data))
        if error is None:
            return _verdict(True, "matches the schema")
        at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "the output"
        return _verdict(False, f"{at.lstrip('.')}: {quote(error.message, 120)}")
    if kind == "json_field":
        data, problem = _parse_json(text)
        if problem:
            return _verdict(False, f"{quote(text)} is {problem}")
        expected = _value(g["value"], sample, item)
        parts = _split_path(g["path"])
        assert parts is not None
        try:
            got = _walk(data, parts, "the output")
        except _Missing as e:  # the model's output lacking the field is a fail, not a grader error
            return _verdict(False, f"{e} (path {g['path']})")
        passed = _same(got, expected)
        shown = quote(_as_text(got))
        return _verdict(passed, f"{g['path']} is {shown}{'' if passed else ', expected ' + quote(_as_text(expected))}")
    if kind == "numeric":
        expected = _number(_value(g["value"], sample, item))
        if expected is None:
            raise _Missing(f"the expected value {quote(_as_text(_value(g['value'], sample, item)))} is not a number")
        got = _number(text)
        if got is None:
            return _verdict(False, f"{quote(text)} is not a number")
        allowed = max(g["abs_tolerance"], g["rel_tolerance"] * abs(expected))
        diff = abs(got - expected)
        op = "≤" if diff <= allowed else ">"
        return _verdict(diff <= allowed, f"{got:g} is {diff:g} from {expected:g} ({op} {allowed:g} allowed)")
    if kind in ("max_latency", "max_cost", "max_output_tokens"):
        return _limit(g, sample)
    # finish_reason
    status = sample.finish_reason
    if status is None:
        return _verdict(False, "finish reason unknown (the run did not report one)")
    passed = status in g["expected"]
    return _verdict(passed, f"finished {status!r}{'' if passed else ', expected ' + ' or '.join(g['expected'])}")


# Per type: the limit's field, the Sample attribute, its words, how to show a figure.
_LIMITS: dict[str, tuple[str, str, str, Callable[[float], str]]] = {
    "max_latency": ("max_ms", "latency_ms", "latency", lambda x: f"{x:,.0f} ms"),
    "max_cost": ("max_usd", "cost", "cost", lambda x: f"${x:.6g}"),
    "max_output_tokens": ("max", "output_tokens", "output tokens", lambda x: f"{x:,.0f}"),
}


def _limit(g: Grader, sample: Sample) -> Verdict:
    key, attr, words, fmt = _LIMITS[g.type]
    figure = getattr(sample, attr)
    if figure is None:  # unknown: fail, never pass silently (a cost may be unknown for want of a price)
        return _verdict(False, f"{words} unknown (the run did not report it, or it has no price), limit {fmt(g[key])}")
    passed = figure <= g[key]
    return _verdict(passed, f"{words} {fmt(figure)} {'≤' if passed else '>'} limit {fmt(g[key])}")


def _same(got: Any, expected: Any) -> bool:
    """JSON equality: true is not 1, 1 equals 1.0, objects and lists compared item by item."""
    if isinstance(got, bool) or isinstance(expected, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(_same(a, b) for a, b in zip(got, expected, strict=True))
    if isinstance(got, Mapping) and isinstance(expected, Mapping):
        return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in got)
    return bool(got == expected)


def _number(value: Any) -> float | None:
    """A finite number from a number or a text holding only one ("42", " 3.5\\n"); else None."""
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None
