"""The configuration panel's logic, without Streamlit."""

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as hyp

from playground import editor
from playground.assistant import (
    REASONING_EFFORTS,
    RESPONSE_FORMATS,
    AssistantConfig,
    FileSearch,
    FunctionTool,
    ResponseFormat,
)


def test_state_round_trip():
    config = AssistantConfig(
        name="n",
        instructions="i",
        model="gpt-5",
        file_search=FileSearch(enabled=True, vector_store_ids=["vs_1", "vs_2"], max_num_results=4),
        functions=[editor.FUNCTION_EXAMPLES["get_weather"]],
        response_format=ResponseFormat(type="json_schema", name="out"),
        reasoning_effort="low",
        max_output_tokens=500,
        metadata={"a": "b"},
    )
    assert editor.from_state(editor.to_state(config)) == config


def test_missing_widgets_give_defaults():
    assert editor.from_state({}) == AssistantConfig()


def test_fields_without_a_widget_are_kept_from_the_loaded_config():
    # A version restored or imported with these set must not lose them on the next edit.
    config = AssistantConfig(
        file_search=FileSearch(enabled=False, vector_store_ids=["vs_1"], ranker="auto", score_threshold=0.4),
        response_format=ResponseFormat(type="text", name="kept", description="kept too"),
        temperature=None,
        top_p=0.5,
    )
    state = editor.to_state(config)
    for hidden in ("cfg.ranker", "cfg.score_threshold", "cfg.schema_name", "cfg.schema_description"):
        del state[hidden]  # not drawn: file search is off, the format is not json_schema
    state["cfg.name"] = "edited"
    edited = editor.from_state(state)
    assert edited.name == "edited"
    assert (edited.file_search.ranker, edited.file_search.score_threshold) == ("auto", 0.4)
    assert (edited.response_format.name, edited.response_format.description) == ("kept", "kept too")
    assert (edited.temperature, edited.top_p) == (1.0, 0.5)  # custom sampling: both are sent


def test_sampling_off_sends_neither():
    state = editor.to_state(AssistantConfig(temperature=0.2, top_p=0.3))
    assert state["cfg.sampling"] is True
    state["cfg.sampling"] = False
    config = editor.from_state(state)
    assert (config.temperature, config.top_p) == (None, None)


ident = hyp.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=20)
words = hyp.text(max_size=40)
widget_configs = hyp.builds(
    AssistantConfig,
    name=words,
    description=words,
    instructions=words,
    model=ident,
    file_search=hyp.builds(
        FileSearch,
        enabled=hyp.booleans(),
        vector_store_ids=hyp.lists(ident, max_size=2),
        max_num_results=hyp.one_of(hyp.none(), hyp.integers(1, 50)),
        ranker=hyp.sampled_from([None, "auto", "default-2024-11-15"]),
        score_threshold=hyp.one_of(hyp.none(), hyp.floats(0, 1)),
    ),
    functions=hyp.lists(hyp.builds(FunctionTool, name=ident, description=words, parameters=words), max_size=2),
    temperature=hyp.one_of(hyp.none(), hyp.floats(0, 2)),
    response_format=hyp.builds(
        ResponseFormat, type=hyp.sampled_from(RESPONSE_FORMATS), name=ident, schema=words, description=words
    ),
    reasoning_effort=hyp.sampled_from([None, *REASONING_EFFORTS]),
    max_output_tokens=hyp.one_of(hyp.none(), hyp.integers(16, 100_000)),
    metadata=hyp.dictionaries(ident, words, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(widget_configs)
def test_every_field_survives_the_panel(config):
    if config.temperature is None:
        config.top_p = None  # one toggle: custom sampling sends both or neither
    elif config.top_p is None:
        config.top_p = 1.0
    assert editor.from_state(editor.to_state(config)) == config


def test_functions_toggle_off_drops_functions():
    state = editor.to_state(AssistantConfig(functions=[FunctionTool(name="f")]))
    state["cfg.functions_on"] = False
    assert editor.from_state(state).functions == []


def test_ids_and_metadata_rows():
    assert editor.split_ids(" vs_1, ,vs_2\nvs_3 ") == ["vs_1", "vs_2", "vs_3"]
    rows = [{"key": "a", "value": "1"}, {"key": None, "value": None}, {"key": "b", "value": float("nan")}]
    assert editor.rows_to_metadata(rows) == {"a": "1", "b": ""}


def test_examples_are_valid_strict_functions():
    for name, fn in editor.FUNCTION_EXAMPLES.items():
        config = AssistantConfig(functions=[fn])
        assert config.validate() == [], name
        json.loads(fn.parameters)


def test_errors_for_matches_field_and_subfields():
    errors = AssistantConfig(temperature=9, functions=[FunctionTool(name="bad name", parameters="{")]).validate()
    assert editor.errors_for(errors, "temperature") == ["Temperature must be between 0 and 2; it is 9."]
    assert len(editor.errors_for(errors, "functions[0].name")) == 1
    assert len(editor.errors_for(errors, "functions")) == 2


def test_save_status_lines():
    a, b = AssistantConfig(name="a"), AssistantConfig(name="b")
    common = dict(latest_number=3, timezone="UTC")
    at_noon = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC).timestamp()
    # The draft is the latest version, whenever it was saved.
    assert editor.save_status(draft=a, latest=a, draft_updated_at=at_noon, **common) == "v3 saved"
    # A changed draft is kept, and says what makes it a version: nothing happens by itself.
    changed = editor.save_status(draft=b, latest=a, draft_updated_at=at_noon, **common)
    assert changed == "Draft saved 1 Jan 12:00 · Update or send to make v4"
    bad = AssistantConfig(temperature=9)
    assert editor.save_status(draft=bad, latest=a, draft_updated_at=at_noon, **common) == (
        "Draft saved 1 Jan 12:00 · fix the fields marked in red before it can become a version"
    )
    first = editor.save_status(draft=a, latest=None, latest_number=None, draft_updated_at=at_noon, timezone="UTC")
    assert first == "Draft saved 1 Jan 12:00 · press Create to make version 1"
    assert editor.save_status(draft=a, latest=None, latest_number=None, draft_updated_at=None) == "New assistant"


def test_clock_handles_bad_time_zones():
    assert len(editor.clock(0.0, "Not/AZone")) >= 5


def test_duplicate_metadata_keys_are_named():
    rows = [{"key": "team", "value": "a"}, {"key": " team ", "value": "b"}, {"key": "x", "value": "1"}]
    assert editor.duplicate_keys(rows) == ["team"]
    assert editor.rows_to_metadata(rows) == {"team": "b", "x": "1"}


def test_commit_keeps_the_draft_and_versions_only_a_valid_config(store):
    assistant = store.create_assistant()
    version, problems = editor.commit(store, assistant.id, AssistantConfig(name="x" * 300))
    assert version is None and [p.field for p in problems] == ["name"]
    assert store.get_draft(assistant.id)[0].name == "x" * 300  # kept as typed
    version, problems = editor.commit(store, assistant.id, AssistantConfig(name="ok"), note="first")
    assert (version.number, version.note, problems) == (1, "first", [])
    again, _ = editor.commit(store, assistant.id, AssistantConfig(name="ok"), note="ignored")
    assert again.id == version.id  # unchanged: no new version


def test_shutdown_notice():
    today = dt.date(2026, 11, 26)
    assert editor.shutdown_notice("gpt-4.1-mini", "2027-01-14", today) == (
        "gpt-4.1-mini: shutdown announced for 14 Jan 2027.",
        False,
    )
    text, past = editor.shutdown_notice("o4-mini", "2026-10-23", today)
    assert past and text.startswith("o4-mini was shut down on 23 Oct 2026")
    assert editor.shutdown_notice("gpt-5.5", None, today) is None
    assert editor.shutdown_notice("x", "soon", today) is None


def test_empty_cells_of_every_kind_are_empty():
    import pandas as pd

    rows = [{"key": pd.NA, "value": "v"}, {"key": "k", "value": pd.NA}, {"key": float("nan"), "value": None}]
    assert editor.rows_to_metadata(rows) == {"": "v", "k": ""}
    assert editor.duplicate_keys(rows) == []
