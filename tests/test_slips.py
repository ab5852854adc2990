"""Small leaks and slips (issue 10, item 7): each one a sentence for a person, never a path or a crash."""

from __future__ import annotations

import json

import pytest

from playground import export, legacy, tools
from playground.assistant import METADATA_KEY_MAX, AssistantConfig, FunctionTool, ResponseFormat

# -- the time handler never shows where the server is installed --------------------------------------


def _time_error(zone: str) -> str:
    result = tools.run_handler("get_current_time", json.dumps({"timezone": zone}))
    assert not result.ok
    return result.problem


def test_a_huge_time_zone_is_one_short_sentence():
    problem = _time_error("A" * 10_000)
    assert len(problem) < 200, problem
    assert "time zone" in problem and "IANA" in problem and problem.endswith(".")


def test_a_file_system_error_in_the_zone_lookup_does_not_leak_the_install_path(monkeypatch):
    # Where tzdata is installed (or /usr/share/zoneinfo cannot be read), ZoneInfo raises OSError with
    # the path it tried, e.g. "[Errno 36] File name too long: '/…/site-packages/tzdata/zoneinfo/…'".
    path = "/opt/app/.venv/lib/python3.11/site-packages/tzdata/zoneinfo/Europe/Nowhere"

    def unreadable(key):
        raise OSError(36, "File name too long", path)

    monkeypatch.setattr(tools, "ZoneInfo", unreadable)
    problem = _time_error("Europe/Nowhere")
    assert "/opt" not in problem and "site-packages" not in problem and "OSError" not in problem, problem
    assert "time zone" in problem and "Europe/Nowhere" in problem


def test_a_real_time_zone_still_works():
    result = tools.run_handler("get_current_time", '{"timezone": "UTC"}')
    assert result.ok and json.loads(result.output)["timezone"] == "UTC"


# -- names are checked whole: a trailing newline is not a name ----------------------------------------


@pytest.mark.parametrize("name", ["get_time\n", "get_time\r\n", "\nget_time", "get time"])
def test_function_and_schema_names_with_a_newline_are_refused(name):
    config = AssistantConfig(
        functions=[FunctionTool(name=name)],
        response_format=ResponseFormat(type="json_schema", name=name),
    )
    fields = {p.field for p in config.validate()}
    assert {"functions[0].name", "response_format.name"} <= fields


def test_an_imported_version_with_a_newline_in_a_name_is_kept_as_a_draft(store):
    document = {
        "format": export.VERSION_FORMAT,
        "format_version": 1,
        "config": {"name": "Clock", "functions": [{"name": "get_time\n"}]},
    }
    config = export.version_from_json(json.dumps(document))
    _, version = store.create_assistant_from(config, note="imported")
    assert version is None  # a draft to fix, not a version whose every send fails upstream
    assert [p.field for p in config.validate()] == ["functions[0].name"]


def test_a_legacy_import_with_a_newline_in_a_name_says_so():
    obj = {"object": "assistant", "model": "gpt-4.1-mini", "tools": [{"type": "function", "function": {"name": "f\n"}}]}
    _, notes = legacy.to_config(obj)
    assert any(n.startswith("functions[0].name") for n in notes), notes


# -- an imported version with fields of the wrong type: which field, and what it should be ----------


def _version(config: dict) -> str:
    return json.dumps({"format": export.VERSION_FORMAT, "format_version": 1, "config": config})


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"response_format": "json_object"}, "response_format must be an object, not text"),
        ({"functions": ["get_time"]}, "functions[0] must be an object, not text"),
        ({"functions": {"name": "get_time"}}, "functions must be a list, not an object"),
        ({"file_search": ["vs_1"]}, "file_search must be an object, not a list"),
        ({"file_search": {"vector_store_ids": "vs_1"}}, "file_search.vector_store_ids must be a list, not text"),
        ({"file_search": {"vector_store_ids": [1]}}, "file_search.vector_store_ids[0] must be text, not a number"),
        ({"file_search": {"enabled": "yes"}}, "file_search.enabled must be true or false, not text"),
        ({"code_interpreter": {"file_ids": {"a": 1}}}, "code_interpreter.file_ids must be a list, not an object"),
        ({"name": 5}, "name must be text, not a number"),
        ({"instructions": None}, "instructions must be text, not null"),
        ({"temperature": "0.5"}, "temperature must be a number or null, not text"),
        ({"max_output_tokens": "100"}, "max_output_tokens must be a number or null, not text"),
        ({"metadata": ["team", "support"]}, "metadata must be an object, not a list"),
        ({"functions": [{"name": "f", "strict": "no"}]}, "functions[0].strict must be true or false, not text"),
        ({"response_format": {"colour": "red"}}, "response_format.colour is not a field"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(config, said):
    with pytest.raises(ValueError) as caught:
        export.version_from_json(_version(config))
    message = str(caught.value)
    assert said in message, message
    assert "dictionary update sequence" not in message and "__init__" not in message


def test_every_field_of_the_wrong_type_is_named_at_once():
    with pytest.raises(ValueError) as caught:
        export.version_from_json(_version({"name": 1, "functions": "f", "response_format": []}))
    message = str(caught.value)
    for field in ("name must be text", "functions must be a list", "response_format must be an object"):
        assert field in message, message


def test_a_version_exported_here_imports_unchanged(store):
    config = AssistantConfig(
        name="Full",
        temperature=0.5,
        max_output_tokens=100,
        metadata={"team": "x"},
        functions=[FunctionTool(name="f", strict=True)],
        response_format=ResponseFormat(type="json_schema", name="answer"),
    )
    config.file_search.enabled = True
    config.file_search.vector_store_ids = ["vs_1"]
    v, _ = store.save_version(store.create_assistant().id, config)
    assert export.version_from_json(export.version_json(v)) == config


# -- a metadata key over the limit is said, not cut --------------------------------------------------


def test_a_long_metadata_key_is_a_field_message_with_its_length():
    key = "k" * 70
    [problem] = AssistantConfig(metadata={key: "v"}).validate()
    assert problem.field == f"metadata.{key}"  # whole, so the panel shows it under that key's table
    assert "70 characters" in problem.message and f"at most {METADATA_KEY_MAX}" in problem.message
