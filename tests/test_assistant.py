"""The assistant config: validation messages per field, and a lossless JSON round trip."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground import editor, version
from playground.assistant import (
    AssistantConfig,
    CodeInterpreter,
    FileSearch,
    FunctionTool,
    ResponseFormat,
    Variable,
    is_reasoning_model,
    schema_problems,
    shape_problems,
    strict_problems,
)


def fields(config):
    return {e.field for e in config.validate()}


def test_default_config_is_valid():
    assert AssistantConfig().validate() == []


def test_every_problem_is_reported_at_once():
    config = AssistantConfig(
        name="n" * 257,
        description="d" * 513,
        instructions="i" * 256_001,
        model="",
        temperature=2.5,
        top_p=-0.1,
        reasoning_effort="extreme",
        max_output_tokens=5,
        metadata={f"k{i}": "v" for i in range(17)},
    )
    assert fields(config) == {
        "name",
        "description",
        "instructions",
        "model",
        "temperature",
        "top_p",
        "reasoning_effort",
        "max_output_tokens",
        "metadata",
    }
    messages = {e.field: e.message for e in config.validate()}
    assert messages["temperature"] == "Temperature must be between 0 and 2; it is 2.5."
    assert "257" in messages["name"]


@pytest.mark.parametrize("value", [0, 0.0, 1, 2, 2.0])
def test_temperature_bounds_are_inclusive(value):
    assert AssistantConfig(temperature=value).validate() == []


def test_limits_at_the_edge_are_accepted():
    config = AssistantConfig(
        name="n" * 256,
        description="d" * 512,
        instructions="i" * 256_000,
        metadata={"k" * 64: "v" * 512, **{f"k{i}": "" for i in range(15)}},
        max_output_tokens=16,
    )
    assert config.validate() == []


def test_metadata_key_and_value_limits():
    config = AssistantConfig(metadata={"k" * 65: "v", "ok": "v" * 513})
    messages = [str(e) for e in config.validate()]
    assert any("has 65 characters; keys are at most 64" in m for m in messages)
    assert any(m.startswith("metadata.ok") and "512" in m for m in messages)


@pytest.mark.parametrize("name", ["get weather", "", "x" * 65, "naïve", "a.b"])
def test_bad_function_names(name):
    config = AssistantConfig(functions=[FunctionTool(name=name)])
    assert "functions[0].name" in fields(config)


def test_duplicate_function_names():
    config = AssistantConfig(functions=[FunctionTool(name="f"), FunctionTool(name="f")])
    assert [e.message for e in config.validate()] == ["Another function is already named 'f'."]


def test_function_parameters_must_be_json_and_json_schema():
    config = AssistantConfig(
        functions=[
            FunctionTool(name="a", parameters="{not json"),
            FunctionTool(name="b", parameters="[1, 2]"),
            FunctionTool(name="c", parameters='{"type": "object", "properties": {"x": {"type": 5}}}'),
            FunctionTool(name="d", parameters='{"type": "string"}'),
        ]
    )
    messages = {e.field: e.message for e in config.validate()}
    assert messages["functions[0].parameters"].startswith("Not valid JSON (line 1, column 2)")
    assert messages["functions[1].parameters"] == "Must be a JSON object, starting with {."
    assert messages["functions[2].parameters"].startswith("Not a valid JSON Schema at properties/x/type")
    assert "top level must be an object" in messages["functions[3].parameters"]


def test_strict_mode_rules():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}},
        "required": [],
    }
    problems = strict_problems(schema)
    assert 'Strict mode: (top level) needs "additionalProperties": false.' in problems
    assert any("missing ['a']" in p for p in problems)
    assert any(p.startswith("Strict mode: a needs") for p in problems)
    closed = {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {"type": "string"}}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert schema_problems(json.dumps(closed), strict=True) == []


def test_file_search_needs_a_vector_store_and_sane_options():
    config = AssistantConfig(file_search=FileSearch(enabled=True, max_num_results=51, score_threshold=2))
    assert fields(config) == {
        "file_search.vector_store_ids",
        "file_search.max_num_results",
        "file_search.score_threshold",
    }
    ok = AssistantConfig(file_search=FileSearch(enabled=True, vector_store_ids=["vs_1"], max_num_results=50))
    assert ok.validate() == []


def test_code_interpreter_file_limit():
    config = AssistantConfig(code_interpreter=CodeInterpreter(enabled=True, file_ids=[f"f{i}" for i in range(21)]))
    assert fields(config) == {"code_interpreter.file_ids"}


def test_too_many_tools():
    config = AssistantConfig(functions=[FunctionTool(name=f"f{i}") for i in range(129)])
    assert "tools" in fields(config)


def test_json_mode_needs_the_word_json():
    config = AssistantConfig(response_format=ResponseFormat(type="json_object"))
    assert [str(e) for e in config.validate()] == ["instructions: JSON mode needs the word “JSON” in the instructions."]
    config.instructions = "Answer in json."
    assert config.validate() == []


def test_json_schema_response_format():
    bad = AssistantConfig(response_format=ResponseFormat(type="json_schema", name="has space", schema="{"))
    assert fields(bad) == {"response_format.name", "response_format.schema"}
    assert AssistantConfig(response_format=ResponseFormat(type="weird")).validate()[0].field == "response_format.type"


def test_reasoning_models():
    assert is_reasoning_model("o3") and is_reasoning_model("gpt-5-mini")
    assert not is_reasoning_model("gpt-4.1")


def test_json_round_trip_is_lossless():
    config = AssistantConfig(
        name="Ünïcode ✓",
        instructions="Line 1\nLine 2",
        functions=[FunctionTool(name="f", description="d", parameters='{\n "type": "object"\n}', strict=True)],
        file_search=FileSearch(enabled=True, vector_store_ids=["vs_1"], max_num_results=3, ranker="auto"),
        code_interpreter=CodeInterpreter(enabled=True, file_ids=["file_1"]),
        response_format=ResponseFormat(type="json_schema", name="out", schema="{bad json kept as typed"),
        reasoning_effort="low",
        max_output_tokens=1000,
        temperature=None,
        metadata={"team": "support"},
    )
    again = AssistantConfig.from_json(config.to_json())
    assert again == config
    assert again.to_json() == config.to_json()


def test_from_dict_accepts_schema_objects_and_ignores_unknown_fields():
    config = AssistantConfig.from_dict(
        {"functions": [{"name": "f", "parameters": {"type": "object"}}], "unknown": 1, "model": "gpt-5"}
    )
    assert json.loads(config.functions[0].parameters) == {"type": "object"}
    assert config.model == "gpt-5"


text = st.text(max_size=80)
configs = st.builds(
    AssistantConfig,
    name=text,
    description=text,
    instructions=text,
    model=text,
    temperature=st.one_of(st.none(), st.floats(allow_nan=True), st.integers()),
    top_p=st.one_of(st.none(), st.floats(allow_nan=True)),
    reasoning_effort=st.one_of(st.none(), text),
    max_output_tokens=st.one_of(st.none(), st.integers()),
    metadata=st.dictionaries(text, text, max_size=20),
    functions=st.lists(st.builds(FunctionTool, name=text, description=text, parameters=text), max_size=3),
    response_format=st.builds(ResponseFormat, type=text, name=text, schema=text),
)


@settings(max_examples=300, deadline=None)
@given(configs)
def test_validate_never_raises_and_always_names_a_field(config):
    for problem in config.validate():
        assert problem.field and problem.message
    assert AssistantConfig.from_json(config.to_json()).to_json() == config.to_json()


@pytest.mark.parametrize(
    ("model", "effort", "refused"),
    [
        ("gpt-4.1-mini", None, False),
        ("gpt-5-chat-latest", None, False),  # a chat model, not a reasoning one
        ("o3", None, True),
        ("o4-mini", "high", True),
        ("gpt-5", None, True),
        ("gpt-5-mini", "minimal", True),
        ("gpt-5.1", None, False),  # its default effort is "none"
        ("gpt-5.1", "none", False),
        ("gpt-5.2", "medium", True),
    ],
)
def test_reasoning_models_refuse_sampling_on_the_field(model, effort, refused):
    config = AssistantConfig(model=model, reasoning_effort=effort, temperature=0.3)
    problems = [p for p in config.validate() if p.field == "temperature"]
    assert bool(problems) is refused
    if refused:
        assert model in problems[0].message
    # Left to the model, nothing is sent and nothing is refused.
    assert not [p for p in AssistantConfig(model=model, reasoning_effort=effort).validate()]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {}, "additionalProperties": False}, []),
        (
            {"anyOf": [{"type": "object"}]},
            [
                'Strict mode: the top level needs "type": "object".',
                'Strict mode: (top level).anyOf[0] needs "additionalProperties": false.',
            ],
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/definitions/A"}},
                "required": ["a"],
                "additionalProperties": False,
                "definitions": {"A": {"type": "object", "properties": {"x": {"type": "string"}}}},
            },
            [
                'Strict mode: definitions.A needs "additionalProperties": false.',
                "Strict mode: definitions.A must list every property in required; missing ['x'].",
            ],
        ),
        (
            {
                "type": "object",
                "properties": {"maybe": {"type": ["object", "null"]}},
                "required": ["maybe"],
                "additionalProperties": False,
            },
            ['Strict mode: maybe needs "additionalProperties": false.'],
        ),
        (
            {
                "type": "object",
                "properties": {"pair": {"type": "array", "prefixItems": [{"type": "object"}]}},
                "required": ["pair"],
                "additionalProperties": False,
            },
            ['Strict mode: pair[0] needs "additionalProperties": false.'],
        ),
    ],
)
def test_strict_mode_checks_every_object_the_api_would_refuse(schema, expected):
    assert schema_problems(json.dumps(schema), strict=True) == expected


def test_a_schema_key_with_a_line_break_reads_on_one_line():
    # Found by hypothesis: a key holding "\n" split the field message over two lines.
    bad = json.dumps({"type": "object", "$defs": {"a\nb": None}})
    [problem] = schema_problems(bad, strict=False)
    assert problem == "Not a valid JSON Schema at $defs/a\\nb: None is not of type 'object', 'boolean'"
    open_sub = json.dumps({"type": "object", "properties": {"x\ty": {"type": "object"}}, "required": ["x\ty"]})
    assert any("x\\ty needs" in p for p in schema_problems(open_sub, strict=True))


# -- variables -------------------------------------------------------------------------------------


def test_variables_round_trip_in_order_and_old_configs_have_none():
    config = AssistantConfig(
        instructions="Answer about {{city}}.", variables=[Variable("city", "Paris"), Variable("unit", "")]
    )
    again = AssistantConfig.from_json(config.to_json())
    assert again == config and [v.name for v in again.variables] == ["city", "unit"]
    assert AssistantConfig.from_dict(config.to_dict()) == config
    old = json.loads(config.to_json())
    del old["variables"]  # saved before variables existed
    assert AssistantConfig.from_dict(old).variables == []
    assert AssistantConfig.from_dict({**old, "variables": None}).variables == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "A variable needs a name."),
        ("1city", "The variable name '1city' is not usable: letters, digits and _, not starting with a digit"),
        ("my city", "The variable name 'my city' is not usable"),
        ("item.x", "The variable name 'item.x' is not usable"),
        ("city\n", "The variable name 'city\\\\n' is not usable"),
        ("a" * 65, "A variable name is at most 64 characters; this has 65."),
        ("input", "'input' is a test case's own field (input, expected, tags); choose another name."),
        ("Tags", "'Tags' is a test case's own field"),
    ],
)
def test_a_bad_variable_name_is_a_field_problem(name, message):
    config = AssistantConfig(variables=[Variable("ok", "1"), Variable(name, "x")])
    [problem] = config.validate()
    assert problem.field == "variables[1].name" and problem.message.startswith(message)


def test_variable_names_at_the_limits_are_accepted():
    names = ["_", "a", "A_1", "x" * 64, "inputs", "expected_answer"]
    assert AssistantConfig(variables=[Variable(n) for n in names]).validate() == []


def test_a_duplicate_variable_name_is_marked_on_the_second():
    config = AssistantConfig(variables=[Variable("city", "Paris"), Variable("unit"), Variable("city", "Rome")])
    assert [(p.field, p.message) for p in config.validate()] == [
        ("variables[2].name", "Another variable is already named 'city'.")
    ]
    assert config.values() == {"city": "Paris", "unit": ""}  # meanwhile the first one counts


def test_the_shape_of_imported_variables_is_checked():
    assert shape_problems({"variables": [{"name": "city", "default": "Paris"}]}) == []
    problems = shape_problems({"variables": [{"name": 1, "default": "x", "other": 2}]})
    assert [str(p) for p in problems] == [
        "variables[0].name: must be text, not a number",
        "variables[0].other: is not a field",
    ]
    assert [str(p) for p in shape_problems({"variables": {"city": "Paris"}})] == [
        "variables: must be a list, not an object"
    ]


def test_versions_diff_and_say_what_changed_in_variables():
    before = AssistantConfig(variables=[Variable("city", "Paris")])
    after = AssistantConfig(variables=[Variable("city", "Rome"), Variable("unit", "C")])
    fields = {c.field: (c.before, c.after) for c in version.diff(before, after).fields}
    assert fields == {
        "variables[0].default": ("Paris", "Rome"),
        "variables[1].default": ("—", "C"),
        "variables[1].name": ("—", "unit"),
    }
    assert version.changed(before, after) == ["variables"]


def test_the_panel_state_keeps_variables_as_typed():
    config = AssistantConfig(variables=[Variable("city", "Paris")])
    state = editor.to_state(config)
    assert state["cfg.variables"] == [{"name": "city", "default": "Paris"}]
    assert editor.from_state(state) == config
    rows = [
        {"name": " city ", "default": None},
        {"name": None, "default": float("nan")},
        {"name": "1x", "default": "v"},
    ]
    # Blank rows go; a bad name stays, for validation to mark.
    assert editor.rows_to_variables(rows) == [Variable("city", ""), Variable("1x", "v")]
