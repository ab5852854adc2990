"""The configuration panel's logic, without Streamlit."""

import json

from playground import editor
from playground.assistant import AssistantConfig, FileSearch, FunctionTool, ResponseFormat


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
    assert editor.from_state({}) == AssistantConfig(temperature=1.0, top_p=1.0)


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


def test_autosave_waits_for_a_pause_and_a_valid_change():
    old = AssistantConfig(name="a")
    new = AssistantConfig(name="b")
    args = dict(has_versions=True, latest=old, draft_updated_at=100.0)
    assert not editor.autosave_due(draft=new, now=101.0, **args)  # still typing
    assert editor.autosave_due(draft=new, now=103.5, **args)
    assert not editor.autosave_due(draft=old, now=200.0, **args)  # nothing changed
    assert not editor.autosave_due(draft=AssistantConfig(temperature=5), now=200.0, **args)  # invalid
    assert not editor.autosave_due(draft=new, now=200.0, has_versions=False, latest=None, draft_updated_at=1)


def test_save_status_lines():
    a, b = AssistantConfig(name="a"), AssistantConfig(name="b")
    common = dict(latest_number=3, latest_at=0.0, now=10.0, timezone="UTC")
    assert editor.save_status(draft=a, latest=a, draft_updated_at=9.0, **common) == "Saved at 1 Jan 00:00 · v3"
    assert editor.save_status(draft=b, latest=a, draft_updated_at=9.0, **common) == "Unsaved changes"
    assert editor.save_status(draft=b, latest=a, draft_updated_at=1.0, **common) == "Saving…"
    bad = AssistantConfig(temperature=9)
    assert editor.save_status(draft=bad, latest=a, draft_updated_at=9.0, **common).startswith("Unsaved changes —")
    assert editor.save_status(
        draft=a, latest=None, latest_number=None, latest_at=None, draft_updated_at=None, now=1.0
    ) == ("New assistant")


def test_clock_handles_bad_time_zones():
    assert len(editor.clock(0.0, "Not/AZone")) >= 5
