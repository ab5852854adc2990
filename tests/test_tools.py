"""Function-call helpers: argument checks against the schema, and the safe demo handlers."""

import json

import pytest

from playground import editor
from playground.assistant import AssistantConfig
from playground.tools import HANDLERS, check_arguments, handler_problem, run_handler

CONFIG = AssistantConfig(functions=[editor.FUNCTION_EXAMPLES["get_weather"]])


def test_matching_arguments_have_no_problems():
    assert check_arguments(CONFIG, "get_weather", '{"city": "Paris", "unit": "celsius"}') == []


def test_mismatches_are_named():
    problems = check_arguments(CONFIG, "get_weather", '{"city": 3, "unit": "kelvin", "extra": 1}')
    assert any(p.startswith("city: 3 is not of type 'string'") for p in problems)
    assert any(p.startswith("unit: 'kelvin' is not one of") for p in problems)
    assert any("Additional properties are not allowed ('extra'" in p for p in problems)


def test_unknown_function_and_bad_json():
    assert check_arguments(CONFIG, "nope", "{}") == ["The model called 'nope', which this assistant does not define."]
    assert check_arguments(CONFIG, "get_weather", "{oops")[0].startswith("Arguments: Not valid JSON")


def test_registered_handlers():
    assert {"get_current_time", "convert_units"} <= set(HANDLERS)
    out, ok = run_handler("get_current_time", '{"timezone": "Europe/Paris"}')
    assert ok and json.loads(out)["timezone"] == "Europe/Paris"
    out, ok = run_handler("convert_units", '{"value": 10, "from": "km", "to": "mi"}')
    assert ok and json.loads(out) == {"value": 6.213712, "unit": "mi"}
    out, ok = run_handler("convert_units", '{"value": 100, "from": "c", "to": "f"}')
    assert json.loads(out) == {"value": 212.0, "unit": "f"}


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("get_current_time", '{"timezone": "Mars/Base"}', "Unknown time zone"),
        ("convert_units", '{"value": 1, "from": "kg", "to": "km"}', "Cannot convert mass to length"),
        ("convert_units", '{"value": 1, "from": "c", "to": "kg"}', "Temperatures convert between c and f"),
        ("convert_units", '{"value": 1, "from": "parsec", "to": "m"}', "Known units"),
        ("convert_units", "[1]", "arguments must be a JSON object"),
        ("missing", "{}", "No handler is registered"),
    ],
)
def test_handler_failures_become_outputs_not_tracebacks(name, arguments, message):
    out, ok = run_handler(name, arguments)
    assert not ok and message in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('{"value": ' + "9" * 400 + ', "from": "km", "to": "mi"}', "value is too large to convert."),
        ('{"value": ' + "9" * 400 + ', "from": "c", "to": "f"}', "value is too large to convert."),
        ('{"value": 1e400, "from": "km", "to": "mi"}', "value must be a finite number."),
        ('{"value": NaN, "from": "km", "to": "mi"}', "value must be a finite number."),
        ('{"value": 1e308, "from": "km", "to": "cm"}', "The result is too large to represent."),
        ('{"value": "10", "from": "km", "to": "mi"}', "value must be a number."),
        ('{"value": true, "from": "km", "to": "mi"}', "value must be a number."),
        ('{"from": "km", "to": "mi"}', "value must be a number."),
    ],
)
def test_numbers_a_handler_cannot_use_are_outputs_in_valid_json(arguments, message):
    result = run_handler("convert_units", arguments)
    assert not result.ok and result.problem == message
    assert json.loads(result.output) == {"error": message}  # strict JSON: no Infinity or NaN


def test_an_unexpected_exception_in_a_handler_is_an_output_and_a_flag(monkeypatch):
    def broken(args):
        raise RuntimeError("disk on fire")

    def not_json(args):
        return {"when": object()}

    def infinite(args):
        return {"x": float("inf")}

    monkeypatch.setitem(HANDLERS, "broken", broken)
    monkeypatch.setitem(HANDLERS, "not_json", not_json)
    monkeypatch.setitem(HANDLERS, "infinite", infinite)
    result = run_handler("broken", "{}")
    assert result == ('{"error": "The broken handler failed (RuntimeError: disk on fire)"}', False)
    assert result.problem == "The broken handler failed (RuntimeError: disk on fire)"
    for name in ("not_json", "infinite"):
        out, ok = run_handler(name, "{}")
        assert not ok and set(json.loads(out)) == {"error"}
    # A successful output is not mistaken for a problem, even one that mentions "error".
    assert handler_problem('{"error": "x", "value": 1}') is None
    assert handler_problem("plain text") is None and handler_problem(None) is None
    assert run_handler("get_current_time", "{}").problem is None
