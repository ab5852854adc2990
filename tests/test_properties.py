"""Bad input, generated (issue 6): never a traceback, always a message tied to the field.

Covers the JSON-schema editors (function parameters, the response format's schema) with odd but
valid JSON and with broken text, the metadata table, the whole configuration panel's widget state,
file uploads, and one property through the real page (AppTest). tests/test_assistant.py keeps the
flat config-level property; these go deeper into the branches it cannot reach with random text.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from playground import editor, files
from playground.assistant import (
    METADATA_PAIRS_MAX,
    REASONING_EFFORTS,
    RESPONSE_FORMATS,
    AssistantConfig,
    FunctionTool,
    ResponseFormat,
    schema_problems,
)
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from tests.conftest import TEST_KEY
from tests.pages import texts

FIXTURES_ACROSS_EXAMPLES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

# -- JSON Schema editors ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
any_json = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
TYPES = ["object", "string", "number", "integer", "boolean", "array", "null", "objekt", 3, None, ["string", "null"]]


def schema_like(children):
    """Dicts made of JSON Schema keywords with values right, wrong or absurd, nested."""
    names = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(TYPES),
            "properties": st.one_of(st.dictionaries(names, children, max_size=3), any_json),
            "required": st.one_of(st.lists(names, max_size=3), any_json),
            "additionalProperties": st.one_of(st.booleans(), children, any_json),
            "items": st.one_of(children, any_json),
            "anyOf": st.one_of(st.lists(children, max_size=2), any_json),
            "oneOf": st.lists(children, max_size=2),
            "allOf": st.lists(children, max_size=2),
            "$defs": st.one_of(st.dictionaries(names, children, max_size=2), any_json),
            "$ref": st.sampled_from(["#/$defs/a", "#", "http://example.com/x", "#/nope"]),
            "enum": st.one_of(st.lists(scalars, max_size=3), any_json),
            "pattern": st.sampled_from(["^a+$", "(unclosed", "[z-a]", "\\", ".*"]),
            "minimum": st.one_of(st.integers(), st.text(max_size=3)),
            "format": st.sampled_from(["date-time", "email", "nonsense"]),
            "description": st.one_of(st.text(max_size=20), any_json),
        },
    )


schemas = st.recursive(st.one_of(st.booleans(), st.just({})), schema_like, max_leaves=12)
schema_texts = st.one_of(
    schemas.map(json.dumps),
    any_json.map(json.dumps),
    st.text(max_size=60),  # not JSON at all, or half of it
    schemas.map(lambda s: json.dumps(s)[: max(1, len(json.dumps(s)) // 2)]),  # cut off while typing
)
# Deeply nested JSON (valid text a recursive parser or checker may choke on), built from a depth so a
# failing example prints as two numbers, not as kilobytes of brackets.
NESTINGS = ("[{}]", '{{"a":{}}}', '{{"type":"object","properties":{{"x":{}}}}}')


def nest(shape: int, depth: int) -> str:
    text = "{}" if shape else "1"
    for _ in range(depth):
        text = NESTINGS[shape].format(text)
    return text


@settings(max_examples=300, deadline=None)
@given(text=schema_texts, strict=st.booleans())
def test_schema_problems_never_raise_and_are_sentences(text, strict):
    problems = schema_problems(text, strict=strict)
    assert isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem, str) and problem.strip() and "\n" not in problem.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        assert problems and problems[0].startswith("Not valid JSON"), problems
        return
    if not isinstance(parsed, dict):
        assert problems == ["Must be a JSON object, starting with {."]
    if not problems and strict and isinstance(parsed, dict) and isinstance(parsed.get("properties"), dict):
        # A strict schema that passed closes its objects and requires every property.
        assert parsed.get("additionalProperties") is False
        assert set(parsed["properties"]) <= set(parsed.get("required") or [])


@settings(max_examples=40, deadline=None)
@given(shape=st.integers(0, len(NESTINGS) - 1), depth=st.integers(1, 3000), strict=st.booleans())
@example(shape=2, depth=150, strict=True)  # a 150-level object schema: 300 levels of JSON
@example(shape=0, depth=5000, strict=False)
def test_deeply_nested_json_gets_a_field_message(shape, depth, strict):
    text = nest(shape, depth)
    try:
        problems = schema_problems(text, strict=strict)
    except RecursionError:
        pytest.fail(
            f"JSON nested {depth} deep must get a field message, not a RecursionError (a traceback on the page) "
            "from playground/assistant.py schema_problems"
        )
    for problem in problems:
        assert problem.strip()
    if shape == 0:
        assert problems, "an array is not an object schema"


@settings(max_examples=200, deadline=None)
@given(
    parameters=schema_texts,
    fn_strict=st.booleans(),
    schema=schema_texts,
    rf_strict=st.booleans(),
)
def test_both_schema_editors_report_on_their_own_field(parameters, fn_strict, schema, rf_strict):
    config = AssistantConfig(
        functions=[FunctionTool(name="lookup", parameters=parameters, strict=fn_strict)],
        response_format=ResponseFormat(type="json_schema", name="answer", schema=schema, strict=rf_strict),
    )
    problems = config.validate()
    fields = {p.field for p in problems}
    assert fields <= {"functions[0].parameters", "response_format.schema"}, fields
    assert ("functions[0].parameters" in fields) == bool(schema_problems(parameters, strict=fn_strict))
    assert ("response_format.schema" in fields) == bool(schema_problems(schema, strict=rf_strict))
    for p in problems:
        assert p.message.strip()


# -- the metadata table -------------------------------------------------------------------------

missing = st.sampled_from([None, float("nan")])
cell = st.one_of(missing, st.text(max_size=80), st.text(min_size=60, max_size=700), st.integers(), st.floats())
rows = st.lists(st.fixed_dictionaries({"key": cell, "value": cell}), max_size=24)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@settings(max_examples=300, deadline=None)
@given(rows=rows, as_frame=st.booleans())
@example(rows=[{"key": None, "value": "orphan value"}], as_frame=True)  # a value typed with no key
def test_metadata_rows_never_raise_and_bad_ones_name_the_field(rows, as_frame):
    # st.data_editor hands back a DataFrame, where pandas turns an empty text cell into NaN.
    given_rows = pd.DataFrame(rows, columns=["key", "value"]) if as_frame else rows
    metadata = editor.rows_to_metadata(given_rows)
    editor.duplicate_keys(given_rows)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    typed = {str(r["key"]).strip() for r in rows if not _missing(r["key"])}
    phantom = sorted({"nan", "None", "<NA>"} & set(metadata) - typed)
    assert not phantom, (
        f"an empty key cell (NaN from st.data_editor) must not become the key {phantom} "
        "(playground/editor.py rows_to_metadata): the user would never be told the key is empty"
    )
    problems = AssistantConfig(metadata=metadata).validate()
    for p in problems:
        assert p.field.startswith("metadata") and p.message.strip()
    too_many = len(metadata) > METADATA_PAIRS_MAX
    bad_pair = any(not k or len(k) > 64 or len(v) > 512 for k, v in metadata.items())
    assert bool(problems) == (too_many or bad_pair)


# -- the whole panel's widget state -------------------------------------------------------------

floats = st.one_of(st.none(), st.floats(), st.just(""))
ints = st.one_of(st.none(), st.integers(min_value=-(10**30), max_value=10**30))
widget_state = st.fixed_dictionaries(
    {},
    optional={
        editor.BASE_KEY: st.one_of(st.just(AssistantConfig(name="base").to_json()), st.just("")),
        "cfg.name": st.text(max_size=300),
        "cfg.description": st.text(max_size=600),
        "cfg.instructions": st.text(max_size=100),
        "cfg.model": st.one_of(st.text(max_size=30), st.sampled_from(["gpt-5", "o3", "gpt-5.1", " gpt-4.1 "])),
        "cfg.file_search": st.booleans(),
        "cfg.vector_store_ids": st.text(max_size=60),
        "cfg.max_num_results": ints,
        "cfg.ranker": st.one_of(st.sampled_from([editor.MODEL_DEFAULT, "auto", "default-2024-11-15"]), st.text()),
        "cfg.score_threshold": floats,
        "cfg.code_interpreter": st.booleans(),
        "cfg.code_file_ids": st.text(max_size=400),
        "cfg.functions_on": st.booleans(),
        "cfg.fn_count": st.integers(min_value=0, max_value=3),
        "cfg.fn.0.name": st.text(max_size=70),
        "cfg.fn.0.parameters": schema_texts,
        "cfg.fn.0.strict": st.booleans(),
        "cfg.fn.1.name": st.text(max_size=70),
        "cfg.fn.1.parameters": schema_texts,
        "cfg.sampling": st.booleans(),
        "cfg.temperature": floats,
        "cfg.top_p": floats,
        "cfg.response_format": st.one_of(st.sampled_from(RESPONSE_FORMATS), st.text(max_size=10)),
        "cfg.schema_name": st.text(max_size=70),
        "cfg.schema": schema_texts,
        "cfg.schema_strict": st.booleans(),
        "cfg.reasoning_effort": st.one_of(st.sampled_from([editor.MODEL_DEFAULT, *REASONING_EFFORTS]), st.text()),
        "cfg.max_output_tokens": ints,
        "cfg.metadata": rows,
        "cfg.truncation": st.booleans(),
        "cfg.variables": st.lists(st.fixed_dictionaries({"name": cell, "default": cell}), max_size=6),
    },
)


@settings(max_examples=300, deadline=None)
@given(widget_state)
def test_any_widget_state_gives_a_config_and_field_level_problems(state):
    config = editor.from_state(state)
    problems = config.validate()
    for p in problems:
        assert p.field and p.message.strip()
        assert editor.errors_for(problems, p.field.split("[")[0].split(".")[0]), p  # the panel finds it
    # What the panel saves as a draft survives the log's JSON.
    assert AssistantConfig.from_json(config.to_json()).to_json() == config.to_json()


# -- file uploads -------------------------------------------------------------------------------

names = st.one_of(
    st.text(max_size=40),
    st.builds(lambda stem, ext: f"{stem}.{ext}", st.text(max_size=30), st.sampled_from((*files.CODE_TYPES, "exe"))),
    st.sampled_from(["../../etc/passwd.txt", "/abs/path/notes.md", "C:\\Users\\x\\a.pdf", ".txt", "a.TXT", "x" * 300]),
    st.sampled_from(['quote".txt', "semi;colon.md", "new\nline.txt", "tab\t.json", "nul\x00.txt", "é✓漢字.md"]),
)
mimes = st.one_of(st.none(), st.sampled_from(["text/plain", "application/pdf", "image/png", ""]), st.text(max_size=20))


@pytest.fixture
def vector_store(upstream):
    return upstream.create_vector_store("props")["id"]


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES_ACROSS_EXAMPLES)
@given(name=names, data=st.binary(max_size=2048), mime=mimes, purpose=st.sampled_from(files.PURPOSES))
@example(name="big.pdf", data=b"x" * (files.MAX_UPLOAD_MB * 2**20 + 1), mime="application/pdf", purpose="file_search")
def test_uploads_never_raise_and_refusals_cost_no_request(name, data, mime, purpose, store, upstream, vector_store):
    backend = ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))
    before = len(upstream.requests)
    rule = files.check_upload(name, len(data), purpose)
    result = files.upload(
        store, backend, name, data, purpose, vector_store_id=vector_store, mime=mime, secrets=(TEST_KEY,)
    )
    event("refused by the rule" if rule else ("refused upstream" if result.problem else "uploaded"))
    if rule is not None:
        assert result == files.UploadResult(None, None, rule)
        assert len(upstream.requests) == before, "a refused file reached the API"
        return
    if result.problem is not None:  # upstream refused it: still a sentence, never the key
        assert result.problem.strip() and TEST_KEY not in result.problem
        return
    kept = upstream.files[result.file_id]
    assert kept["content"] == data
    [row] = [f for f in store.list_files(purpose) if f.id == result.row_id] or [None]
    assert row is not None and row.filename == PurePath(name).name


# -- the page -----------------------------------------------------------------------------------


@pytest.fixture
def schema_page(app):
    """The Playground with one function and a JSON-schema response format, kept across examples."""
    app.toggle(key="cfg.functions_on").set_value(True).run()
    app.button[[b.label for b in app.button].index("Add function")].click().run()
    app.selectbox(key="cfg.response_format").set_value("json_schema").run()
    assert not app.exception, app.exception
    return app


@settings(max_examples=12, deadline=None, suppress_health_check=FIXTURES_ACROSS_EXAMPLES)
@given(text=schema_texts, where=st.sampled_from(["cfg.fn.0.parameters", "cfg.schema"]), deep=st.just(0))
@example(text="{not json", where="cfg.schema", deep=0)
@example(text="", where="cfg.fn.0.parameters", deep=1200)  # the text is a 1200-level object schema
def test_typing_into_a_schema_box_shows_a_field_error_not_a_traceback(text, where, deep, schema_page):
    at = schema_page
    text = nest(2, deep) if deep else text
    at.text_area(key=where).input(text).run()
    assert not at.exception, f"traceback on the page for {text[:80]!r}: {at.exception}"
    strict = at.checkbox(key="cfg.fn.0.strict" if where.startswith("cfg.fn") else "cfg.schema_strict").value
    try:
        expected = schema_problems(text, strict=strict)
    except RecursionError:  # reported by test_deeply_nested_json_gets_a_field_message; here: any field error
        expected = []
        assert texts(at, "error"), "no field message for a schema nested too deeply"
    errors = texts(at, "error")
    if expected:
        assert expected[0] in errors, f"{expected[0]!r} not shown for {text[:80]!r}; shown: {errors}"
    elif not deep:
        assert not errors, errors
    at.text_area(key=where).input('{"type": "object", "properties": {}, "additionalProperties": false}').run()
