"""Importing assistants saved from the retired Assistants API: parsing, mapping, notes, and the store."""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.assistant import (
    EMPTY_OBJECT_SCHEMA,
    AssistantConfig,
    CodeInterpreter,
    FileSearch,
    FunctionTool,
    ResponseFormat,
)
from playground.legacy import ImportResult, import_into, parse, to_config

INVOICE_PARAMETERS = {
    "type": "object",
    "properties": {
        "invoice_id": {"type": "string", "description": "The invoice number, e.g. INV-1042."},
        "include_lines": {"type": "boolean"},
    },
    "required": ["invoice_id", "include_lines"],
    "additionalProperties": False,
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "invoice_ids": {"type": "array", "items": {"type": "string"}}},
    "required": ["answer", "invoice_ids"],
    "additionalProperties": False,
}

# What client.beta.assistants.retrieve(...).model_dump() gave for a fully set-up assistant.
FULL = {
    "id": "asst_9tXq2LbM4kR7vW1zYp3sD8aF",
    "object": "assistant",
    "created_at": 1717171717,
    "name": "Invoice helper",
    "description": "Answers questions about customer invoices.",
    "model": "gpt-4o",
    "instructions": "You answer questions about invoices. Reply with JSON that matches the schema.",
    "tools": [
        {"type": "code_interpreter"},
        {
            "type": "file_search",
            "file_search": {
                "max_num_results": 8,
                "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.4},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_invoice",
                "description": "Look up one invoice by its number.",
                "parameters": INVOICE_PARAMETERS,
                "strict": True,
            },
        },
    ],
    "tool_resources": {
        "code_interpreter": {"file_ids": ["file-Ab12Cd34", "file-Ef56Gh78"]},
        "file_search": {"vector_store_ids": ["vs_67a1b2c3d4e5"]},
    },
    "metadata": {"team": "finance", "owner": "ana"},
    "temperature": 0.3,
    "top_p": 0.9,
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "invoice_answer",
            "description": "An answer with the invoices it used.",
            "schema": ANSWER_SCHEMA,
            "strict": True,
        },
    },
}

FULL_CONFIG = AssistantConfig(
    name="Invoice helper",
    description="Answers questions about customer invoices.",
    instructions="You answer questions about invoices. Reply with JSON that matches the schema.",
    model="gpt-4o",
    file_search=FileSearch(
        enabled=True, vector_store_ids=["vs_67a1b2c3d4e5"], max_num_results=8, ranker="auto", score_threshold=0.4
    ),
    code_interpreter=CodeInterpreter(enabled=True, file_ids=["file-Ab12Cd34", "file-Ef56Gh78"]),
    functions=[
        FunctionTool(
            name="get_invoice",
            description="Look up one invoice by its number.",
            parameters=json.dumps(INVOICE_PARAMETERS, indent=2),
            strict=True,
        )
    ],
    temperature=0.3,
    top_p=0.9,
    response_format=ResponseFormat(
        type="json_schema",
        name="invoice_answer",
        schema=json.dumps(ANSWER_SCHEMA, indent=2),
        strict=True,
        description="An answer with the invoices it used.",
    ),
    reasoning_effort=None,
    max_output_tokens=None,
    metadata={"team": "finance", "owner": "ana"},
)


def assistant(**fields):
    """A minimal valid legacy assistant, with `fields` set on top."""
    obj = {
        "id": "asst_min",
        "object": "assistant",
        "created_at": 1700000000,
        "name": "Minimal",
        "description": None,
        "model": "gpt-4o-mini",
        "instructions": "Be brief.",
        "tools": [],
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "response_format": "auto",
    }
    obj.update(fields)
    return obj


# -- mapping ------------------------------------------------------------------------------------


def test_full_assistant_maps_field_by_field():
    config, notes = to_config(copy.deepcopy(FULL))

    assert config.name == "Invoice helper"
    assert config.description == "Answers questions about customer invoices."
    assert config.instructions == FULL["instructions"]
    assert config.model == "gpt-4o"
    assert config.file_search == FULL_CONFIG.file_search
    assert config.code_interpreter == FULL_CONFIG.code_interpreter
    assert config.functions == FULL_CONFIG.functions
    assert json.loads(config.functions[0].parameters) == INVOICE_PARAMETERS
    assert (config.temperature, config.top_p) == (0.3, 0.9)
    assert config.response_format == FULL_CONFIG.response_format
    assert json.loads(config.response_format.schema) == ANSWER_SCHEMA
    assert config.metadata == {"team": "finance", "owner": "ana"}
    assert config == FULL_CONFIG
    assert config.validate() == []

    # The dated ranker is the only thing that changed meaning; id and created_at are not notes.
    assert len(notes) == 1, notes
    assert "ranker" in notes[0]
    assert "default_2024_08_21" in notes[0]
    assert "auto" in notes[0]


def test_full_assistant_imports_as_version_1(store):
    [result] = import_into(store, json.dumps(FULL))

    assert isinstance(result, ImportResult)
    assert result.name == "Invoice helper"
    assert result.version_number == 1
    assert len(result.notes) == 1 and "ranker" in result.notes[0]

    version = store.latest_version(result.assistant_id)
    assert version.number == 1
    assert version.config == FULL_CONFIG
    assert version.note.startswith("imported from asst_9tXq2LbM4kR7vW1zYp3sD8aF")
    assert "2024-05-31" in version.note  # created_at 1717171717, kept with the old id
    assert store.get_draft(result.assistant_id)[0] == FULL_CONFIG
    assert store.get_assistant(result.assistant_id).name == "Invoice helper"


def test_the_auto_ranker_maps_without_a_note():
    tool = {"type": "file_search", "file_search": {"ranking_options": {"ranker": "auto", "score_threshold": 0.0}}}
    config, notes = to_config(assistant(tools=[tool], tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}}))
    assert config.file_search == FileSearch(enabled=True, vector_store_ids=["vs_1"], ranker="auto", score_threshold=0)
    assert notes == []


def test_a_bare_file_search_tool_keeps_the_defaults():
    config, notes = to_config(
        assistant(tools=[{"type": "file_search"}], tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}})
    )
    assert config.file_search == FileSearch(enabled=True, vector_store_ids=["vs_1"])
    assert notes == []


@pytest.mark.parametrize(
    ("legacy", "expected"),
    [
        ("auto", ResponseFormat(type="auto")),
        (None, ResponseFormat(type="auto")),
        ({"type": "text"}, ResponseFormat(type="text")),
        (
            {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}}},
            # Assistants' strict defaulted to false; keeping that keeps the meaning.
            ResponseFormat(type="json_schema", name="out", schema='{\n  "type": "object"\n}', strict=False),
        ),
    ],
)
def test_response_formats(legacy, expected):
    config, notes = to_config(assistant(response_format=legacy))
    assert config.response_format == expected
    assert notes == []


def test_json_mode_with_json_in_the_instructions_is_valid():
    config, notes = to_config(assistant(response_format={"type": "json_object"}, instructions="Answer in JSON."))
    assert config.response_format.type == "json_object"
    assert notes == []


def test_function_without_parameters_gets_an_empty_parameter_list():
    config, notes = to_config(assistant(tools=[{"type": "function", "function": {"name": "ping"}}]))
    assert config.functions == [FunctionTool(name="ping", description="", parameters=EMPTY_OBJECT_SCHEMA)]
    assert notes == []


def test_reasoning_effort_and_null_sampling_settings():
    config, notes = to_config(assistant(model="o3", reasoning_effort="high", temperature=None, top_p=None))
    assert (config.model, config.reasoning_effort) == ("o3", "high")
    # null meant "the API default" in Assistants, and means the same in a config.
    assert (config.temperature, config.top_p) == (None, None)
    assert notes == []


def test_non_text_metadata_is_converted_with_a_note():
    config, notes = to_config(assistant(metadata={"tier": 3, "beta": True, "team": "ops"}))
    assert config.metadata == {"tier": "3", "beta": "true", "team": "ops"}
    assert len(notes) == 2
    assert all("metadata" in n for n in notes)


def test_default_run_settings_are_not_noted():
    config, notes = to_config(assistant(truncation_strategy={"type": "auto", "last_messages": None}, top_logprobs=None))
    assert notes == []
    assert config.validate() == []


# -- unmappable parts ---------------------------------------------------------------------------


def test_unmappable_parts_each_get_a_note(store):
    obj = assistant(
        truncation_strategy={"type": "last_messages", "last_messages": 10},
        top_logprobs=5,
        tools=[{"type": "retrieval"}, {"type": "browser"}, {"type": "file_search"}],
        tool_resources={
            "file_search": {
                "vector_store_ids": ["vs_1"],
                "vector_stores": [{"file_ids": ["file-1"], "chunking_strategy": {"type": "auto"}}],
            }
        },
    )
    config, notes = to_config(obj)

    assert len(notes) == 5, notes
    assert any("truncation" in n for n in notes)
    assert any("top_logprobs" in n for n in notes)
    assert any("retrieval" in n for n in notes)
    assert any("'browser'" in n for n in notes)
    assert any("vector store to create" in n for n in notes)
    # What did map is still there, and the config is usable.
    assert config.file_search == FileSearch(enabled=True, vector_store_ids=["vs_1"])
    assert config.validate() == []

    [result] = import_into(store, json.dumps(obj))
    assert result.version_number == 1
    assert result.notes == notes


def test_json_mode_without_the_word_json_is_kept_as_a_draft(store):
    obj = assistant(id="asst_jsonmode", response_format={"type": "json_object"}, instructions="Reply tersely.")
    config, notes = to_config(obj)
    assert config.response_format.type == "json_object"
    assert any("JSON mode needs" in n for n in notes)

    [result] = import_into(store, json.dumps(obj))
    assert result.version_number is None
    assert any("JSON mode needs" in n for n in result.notes)
    assert any("draft" in n and "asst_jsonmode" in n for n in result.notes)
    assert store.list_versions(result.assistant_id) == []
    draft, _ = store.get_draft(result.assistant_id)
    assert draft == config


def test_too_long_instructions_are_kept_in_full_as_a_draft(store):
    obj = assistant(instructions="x" * 256_001)
    [result] = import_into(store, json.dumps(obj))
    assert result.version_number is None
    assert any(n.startswith("instructions:") for n in result.notes)
    assert store.get_draft(result.assistant_id)[0].instructions == "x" * 256_001


def test_file_search_without_a_vector_store_says_why():
    config, notes = to_config(assistant(tools=[{"type": "file_search"}]))
    assert config.file_search.enabled
    assert any("threads may have supplied" in n for n in notes)
    assert any(n.startswith("file_search.vector_store_ids:") for n in notes)


def test_wrongly_typed_known_fields_are_noted_not_raised():
    config, notes = to_config(
        assistant(
            name=42,
            temperature="warm",
            tools={"type": "code_interpreter"},
            metadata=["a"],
            response_format={"type": "xml"},
        )
    )
    assert config.name == "42"
    assert config.temperature is None  # left to the model, and noted
    assert config.code_interpreter.enabled is False
    assert config.metadata == {}
    assert config.response_format.type == "auto"
    assert len(notes) == 5, notes


# -- parsing ------------------------------------------------------------------------------------


def test_a_list_page_imports_every_assistant(store):
    second = assistant(id="asst_second", name="Second")
    page = {
        "object": "list",
        "data": [FULL, second],
        "first_id": FULL["id"],
        "last_id": "asst_second",
        "has_more": False,
    }
    results = import_into(store, json.dumps(page))

    assert [r.name for r in results] == ["Invoice helper", "Second"]
    assert [r.version_number for r in results] == [1, 1]
    assert len({r.assistant_id for r in results}) == 2
    assert store.latest_version(results[1].assistant_id).note.startswith("imported from asst_second")
    assert len(store.list_assistants()) == 2


def test_a_bare_array_works_too(store):
    text = json.dumps([assistant(id="asst_a", name="A"), assistant(id="asst_b", name="B")])
    assert [o["id"] for o in parse(text)] == ["asst_a", "asst_b"]
    results = import_into(store, text)
    assert [(r.name, r.version_number) for r in results] == [("A", 1), ("B", 1)]


def test_a_single_assistant_parses_to_one_object():
    assert parse(json.dumps(FULL)) == [FULL]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"object": "thread"}', "'thread' object"),
        ('{"name": "x"}', 'no "object" field'),
        ("[1, 2]", "Item 1 of the list is not an assistant; it is a number"),
        ('[{"object": "assistant"}, "x"]', "Item 2 of the list"),
        ('{"object": "list", "data": []}', "no assistants"),
        ('{"object": "list"}', '"data"'),
        ("[]", "no assistants"),
        ("42", "but this is a number"),
        ('{"object": "assistant", "temperature": NaN}', "not valid JSON"),
    ],
)
def test_invalid_input_says_why(text, message):
    with pytest.raises(ValueError, match=r"\.$") as caught:
        parse(text)
    assert message in str(caught.value)


def test_invalid_input_imports_nothing(store):
    with pytest.raises(ValueError):
        import_into(store, json.dumps([FULL, {"object": "thread"}]))
    assert store.list_assistants() == []


# -- property: to_config never raises -----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
maybe = json_values  # any known field may hold any JSON value
tool_types = st.sampled_from(["function", "file_search", "code_interpreter", "retrieval", ""]) | json_values
functions = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=70) | maybe,
        "description": st.text(max_size=20) | maybe,
        "parameters": st.just(INVOICE_PARAMETERS) | maybe,
        "strict": st.booleans() | maybe,
    },
)
ranking = st.fixed_dictionaries(
    {},
    optional={
        "ranker": st.sampled_from(["auto", "default_2024_08_21", "default-2024-11-15"]) | maybe,
        "score_threshold": st.floats() | maybe,
    },
)
file_search = st.fixed_dictionaries(
    {}, optional={"max_num_results": st.integers(-5, 60) | maybe, "ranking_options": ranking | maybe}
)
tools = st.fixed_dictionaries(
    {"type": tool_types}, optional={"function": functions | maybe, "file_search": file_search | maybe}
)
ids = st.lists(st.text(max_size=10) | maybe, max_size=4) | maybe
resources = st.fixed_dictionaries(
    {},
    optional={
        "file_search": st.fixed_dictionaries({}, optional={"vector_store_ids": ids, "vector_stores": maybe}) | maybe,
        "code_interpreter": st.fixed_dictionaries({}, optional={"file_ids": ids}) | maybe,
        "other": maybe,
    },
)
response_formats = (
    st.sampled_from(["auto", {"type": "text"}, {"type": "json_object"}])
    | st.fixed_dictionaries(
        {"type": st.just("json_schema")},
        optional={
            "json_schema": st.fixed_dictionaries(
                {},
                optional={
                    "name": st.text(max_size=10) | maybe,
                    "schema": st.just(ANSWER_SCHEMA) | maybe,
                    "strict": st.booleans() | maybe,
                    "description": maybe,
                },
            )
            | maybe
        },
    )
    | maybe
)
legacy_assistants = st.builds(
    lambda extra, known: {**extra, **known},
    st.dictionaries(st.text(max_size=12), json_values, max_size=4),
    st.fixed_dictionaries(
        {"object": st.just("assistant")},
        optional={
            "id": st.text(max_size=12) | maybe,
            "created_at": st.integers() | maybe,
            "name": st.text(max_size=300) | maybe,
            "description": st.text(max_size=20) | maybe,
            "instructions": st.text(max_size=40) | maybe,
            "model": st.sampled_from(["gpt-4o", "o3", "", "gpt 4"]) | maybe,
            "tools": st.lists(tools | maybe, max_size=5) | maybe,
            "tool_resources": resources | maybe,
            "metadata": st.dictionaries(st.text(max_size=70), st.text(max_size=10) | maybe, max_size=18) | maybe,
            "temperature": st.floats() | st.integers() | maybe,
            "top_p": st.floats() | maybe,
            "response_format": response_formats,
            "reasoning_effort": st.sampled_from(["low", "medium", "high", "extreme"]) | maybe,
            "truncation_strategy": maybe,
            "top_logprobs": maybe,
        },
    ),
)


@settings(max_examples=300, deadline=None)
@given(legacy_assistants)
def test_to_config_never_raises(obj):
    config, notes = to_config(obj)
    assert isinstance(config, AssistantConfig)
    assert isinstance(notes, list)
    assert all(isinstance(n, str) and n for n in notes)
    # Whatever came in, the result can be stored as a draft and read back unchanged.
    assert AssistantConfig.from_json(config.to_json()) == config


def test_the_api_default_sampling_maps_to_the_model_default_so_reasoning_models_import_cleanly():
    # Every Assistants object carried temperature and top_p (1.0 when never set); o3 refuses both.
    config, _ = to_config(assistant(model="o3", temperature=1.0, top_p=1.0))
    assert (config.temperature, config.top_p) == (None, None)
    assert not config.validate()
    config, _ = to_config(assistant(model="gpt-4o", temperature=0.2, top_p=1.0))
    assert (config.temperature, config.top_p) == (0.2, None)
