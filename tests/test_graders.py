"""Deterministic graders (playground/graders.py): parsing OpenAI's testing_criteria and ours, templating,
every type passing and failing, unknown figures, and the sentences bad input gets. Pure: no server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from playground import graders
from playground.graders import GraderError, Sample, Verdict, grade, parse


def one(criterion: dict[str, Any]) -> graders.Grader:
    return parse([criterion])[0]


def run(criterion: dict[str, Any], output: str = "", item: dict[str, Any] | None = None, **figures: Any) -> Verdict:
    return grade(one(criterion), Sample(output, **figures), item or {})


def refused(criteria: Any) -> str:
    with pytest.raises(GraderError) as e:
        parse(criteria)
    return str(e.value)


# --- OpenAI's criteria, carried over verbatim ---------------------------------------------------------

# The examples of the OpenAPI spec (GraderStringCheck, EvalGraderTextSimilarity, the eval object).
OPENAI_STRING_CHECK = {
    "type": "string_check",
    "name": "Example string check grader",
    "input": "{{sample.output_text}}",
    "reference": "{{item.label}}",
    "operation": "eq",
}
OPENAI_TEXT_SIMILARITY = {
    "type": "text_similarity",
    "name": "Example text similarity grader",
    "input": "{{sample.output_text}}",
    "reference": "{{item.label}}",
    "pass_threshold": 0.8,
    "evaluation_metric": "fuzzy_match",
}
OPENAI_EVAL = {
    "testing_criteria": [
        {
            "name": "My string check grader",
            "type": "string_check",
            "input": "{{sample.output_text}}",
            "reference": "{{item.label}}",
            "operation": "eq",
        }
    ],
}


def test_openai_examples_parse_and_grade() -> None:
    check, similarity = parse([OPENAI_STRING_CHECK, OPENAI_TEXT_SIMILARITY])
    assert grade(check, Sample("positive"), {"label": "positive"}) == Verdict(True, 1.0, '"positive" equals "positive"')
    failed = grade(check, Sample("negative"), {"label": "positive"})
    assert not failed.passed and failed.score == 0.0 and "not: equals" in failed.reason
    close = grade(similarity, Sample("fuzzy wuzzy was a bear"), {"label": "Fuzzy wuzzy was a bear!"})
    assert close.passed and close.score == 1.0
    far = grade(similarity, Sample("something else"), {"label": "fuzzy wuzzy was a bear"})
    assert not far.passed and 0 < far.score < 0.8 and "< 0.8" in far.reason


def test_an_object_with_testing_criteria_and_the_server_id() -> None:
    [g] = parse(OPENAI_EVAL)
    assert (g.type, g.name) == ("string_check", "My string check grader")
    with_id = {**OPENAI_STRING_CHECK, "id": "Example-9b876f24"}  # what the API gives back
    assert parse([with_id])[0].name == "Example string check grader"
    assert graders.parse_json(json.dumps(OPENAI_EVAL))[0].name == "My string check grader"


@pytest.mark.parametrize(
    ("operation", "output", "reference", "passed"),
    [
        ("eq", "Paris", "Paris", True),
        ("eq", "Paris", "paris", False),
        ("ne", "Paris", "London", True),
        ("ne", "Paris", "Paris", False),
        # like / ilike are "input contains reference" (OpenAI's graders guide), not SQL patterns.
        ("like", "The capital is Paris.", "Paris", True),
        ("like", "The capital is paris.", "Paris", False),
        ("like", "Paris", "P%", False),
        ("like", "100% sure", "100%", True),
        ("ilike", "THE CAPITAL IS PARIS", "paris", True),
        ("ilike", "Straße", "STRASSE", True),  # casefold, not lower
        ("ilike", "London", "paris", False),
    ],
)
def test_string_check_operations(operation: str, output: str, reference: str, passed: bool) -> None:
    v = run({**OPENAI_STRING_CHECK, "operation": operation}, output, {"label": reference})
    assert v.passed is passed and v.score == float(passed)


# --- Templating ---------------------------------------------------------------------------------------


def test_item_paths_variables_and_spaces() -> None:
    item = {"input": "q", "expected": "A", "variables": {"city": "Paris"}, "nested": {"list": [{"x": 7}]}}
    c = {"type": "string_check", "name": "t", "reference": "A", "operation": "eq"}
    assert run({**c, "input": "{{ item.expected }}"}, "", item).passed
    assert run({**c, "input": "{{item.city}}", "reference": "Paris"}, "", item).passed  # a variable
    assert run({**c, "input": "{{item.nested.list[0].x}}", "reference": "7"}, "", item).passed
    assert run({**c, "input": "x={{item.nested.list[0]}}", "reference": 'x={"x": 7}'}, "", item).passed
    assert run({**c, "input": "{{item.flag}}", "reference": "true"}, "", {"flag": True}).passed


def test_sample_paths() -> None:
    c = {"type": "string_check", "name": "t", "operation": "eq"}
    output = '{"answer": {"city": "Paris"}, "items": [1, 2]}'
    assert run({**c, "input": "{{sample.output_json.answer.city}}", "reference": "Paris"}, output).passed
    assert run({**c, "input": "{{sample.output_json.items[1]}}", "reference": "2"}, output).passed
    assert run({**c, "input": "{{sample.output_json}}", "reference": json.dumps(json.loads(output))}, output).passed


def test_a_missing_item_path_is_a_grader_error_not_an_empty_string() -> None:
    c = {"type": "string_check", "name": "t", "input": "{{sample.output_text}}", "operation": "eq"}
    v = run({**c, "reference": "{{item.expected}}"}, "", {"input": "q"})
    assert v == Verdict(False, 0.0, "Grader error: the case has no field 'expected'.", error=True)
    v = run({**c, "reference": "{{item.a.b}}"}, "", {"a": {"c": 1}})
    assert v.error and v.reason == "Grader error: item.a has no field 'b'."
    v = run({**c, "reference": "{{item.a[3]}}"}, "", {"a": [1]})
    assert v.error and v.reason == "Grader error: item.a has no item [3]."
    v = run({**c, "reference": "{{item.a}}"}, "", {"variables": "not a mapping"})
    assert v.error
    v = run({**c, "reference": "{{item.expected}}"}, "null", {"expected": None})  # no expected answer
    assert v == Verdict(False, 0.0, "Grader error: the case's field 'expected' is empty.", error=True)


def test_a_path_the_output_lacks_fails_the_output() -> None:
    c = {"type": "string_check", "name": "t", "reference": "x", "operation": "eq"}
    v = run({**c, "input": "{{sample.output_json.city}}"}, "plain text")
    assert (v.passed, v.error) == (False, False)
    assert v.reason.startswith("the output is not JSON (Expecting value at character 0)")
    v = run({**c, "input": "{{sample.output_json.city}}"}, '{"town": "x"}')
    assert (v.passed, v.error, v.reason) == (False, False, "the output's JSON has no field 'city'.")


def test_templates_are_filled_once_never_from_the_output() -> None:
    c = {"type": "string_check", "name": "t", "operation": "eq", "input": "{{sample.output_text}}"}
    # The model writes a template: it stays text, nothing of the case leaks into it.
    v = run({**c, "reference": "{{item.secret}}"}, "{{item.secret}}", {"secret": "s3"})
    assert not v.passed and '"{{item.secret}}"' in v.reason
    v = run({**c, "reference": "{{item.a}}"}, "{{item.b}}", {"a": "{{item.b}}", "b": "B"})
    assert v.passed  # the case's value is not expanded either


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{foo.bar}}", "{{foo.bar}} is not a template this app knows"),
        ("{{item}}", "{{item}} is not a template"),
        ("{{ }}", "is not a template"),
        ("{{item.[0]}}", "is not a template"),
        ("{{item.a..b}}", "is not a template"),
        ("{{item.a[0]b}}", "is not a template"),
        ("{{sample.output_tools[0]}}", "names a sample field this app does not have"),
        ("{{sample.choices}}", "names a sample field this app does not have"),
        ("{{sample.output_text.x}}", "sample.output_text is text, it has no fields"),
    ],
)
def test_unknown_templates_are_refused_at_parse_time(template: str, words: str) -> None:
    message = refused([{**OPENAI_STRING_CHECK, "reference": template}])
    assert message.startswith("Grader 'Example string check grader' (testing_criteria[0]): field 'reference': ")
    assert words in message


# --- Our types ----------------------------------------------------------------------------------------


def test_contains_and_not_contains() -> None:
    assert run({"type": "contains", "value": "Paris"}, "It is Paris.").reason == '"Paris" found in "It is Paris."'
    assert not run({"type": "contains", "value": "paris"}, "It is Paris.").passed
    assert run({"type": "contains", "value": "paris", "ignore_case": True}, "It is PARIS.").passed
    assert run({"type": "contains", "value": "{{item.expected}}"}, "42!", {"expected": "42"}).passed
    assert run({"type": "not_contains", "value": "sorry"}, "Sure.").passed
    v = run({"type": "not_contains", "value": "Sorry", "ignore_case": True}, "sorry, no")
    assert not v.passed and v.reason == '"Sorry" found in "sorry, no"'
    assert run({"type": "contains", "value": "b", "input": "{{item.x}}"}, "", {"x": "abc"}).passed


def test_regex() -> None:
    v = run({"type": "regex", "pattern": r"\d{3}-\d{4}"}, "Call 555-1234 now")
    assert v.passed and v.reason == r'/\d{3}-\d{4}/ matched "555-1234"'
    v = run({"type": "regex", "pattern": r"^\d+$"}, "12 apples")
    assert not v.passed and v.reason == r'/^\d+$/ not found in "12 apples"'
    assert run({"type": "regex", "pattern": "^yes", "ignore_case": True}, "YES indeed").passed
    assert run({"type": "regex", "pattern": "^b", "multiline": True}, "a\nb").passed
    assert not run({"type": "regex", "pattern": "^b"}, "a\nb").passed
    assert run({"type": "regex", "pattern": "a.b", "dotall": True}, "a\nb").passed
    # The pattern is the criterion's, never templated: braces are literal regex text.
    assert run({"type": "regex", "pattern": r"\{\{item\.x\}\}"}, "{{item.x}}").passed


def test_a_regex_that_runs_away_on_the_output_stops_with_a_grader_error(monkeypatch) -> None:
    # Python's re takes seconds on this (and doubles with each "x" more); the grader never hangs a run.
    assert run({"type": "regex", "pattern": r"(x+x+)+y"}, "x" * 40).reason.endswith(
        "not found in " + '"' + "x" * 40 + '"'
    )
    monkeypatch.setattr(graders, "REGEX_TIMEOUT_S", 1e-6)
    v = run({"type": "regex", "pattern": r"(?:a|b)*c"}, "ab" * 200_000)
    assert not v.passed and v.error and "took more than" in v.reason and "simplify the pattern" in v.reason


def test_valid_json() -> None:
    assert run({"type": "valid_json"}, '{"a": 1}') == Verdict(True, 1.0, "valid JSON")
    v = run({"type": "valid_json"}, "{'a': 1}")
    assert not v.passed and v.reason.startswith("\"{'a': 1}\" is not valid JSON (Expecting property name")


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["name"],
}


def test_json_schema() -> None:
    c = {"type": "json_schema", "schema": SCHEMA}
    assert run(c, '{"name": "x", "tags": ["a"]}') == Verdict(True, 1.0, "matches the schema")
    assert run(c, '{"tags": []}').reason == "the output: \"'name' is a required property\""
    assert run(c, '{"name": "x", "tags": ["a", 2]}').reason == "tags[1]: \"2 is not of type 'string'\""
    assert run(c, "nope").reason.startswith('"nope" is not valid JSON')


def test_json_field() -> None:
    c = {"type": "json_field", "path": "result.items[1].id", "value": 7}
    output = '{"result": {"items": [{"id": 1}, {"id": 7}]}}'
    assert run(c, output) == Verdict(True, 1.0, 'result.items[1].id is "7"')
    v = run({**c, "value": 8}, output)
    assert not v.passed and v.reason == 'result.items[1].id is "7", expected "8"'
    v = run({**c, "path": "result.items[5].id"}, output)
    assert (v.passed, v.error, v.reason) == (False, False, "the output has no item [5] (path result.items[5].id)")
    assert run({**c, "value": 7.0}, output).passed  # 7 equals 7.0, as in JSON
    assert not run({"type": "json_field", "path": "ok", "value": 1}, '{"ok": true}').passed  # true is not 1
    assert run({"type": "json_field", "path": "ok", "value": True}, '{"ok": true}').passed
    assert run({"type": "json_field", "path": "a", "value": {"b": [1, "x"]}}, '{"a": {"b": [1, "x"]}}').passed
    assert not run({"type": "json_field", "path": "a", "value": {"b": [1]}}, '{"a": {"b": [true]}}').passed
    assert not run({"type": "json_field", "path": "a", "value": [1]}, '{"a": [1, 2]}').passed
    # A value that is one template keeps the case field's type; a longer string is rendered text.
    assert run({"type": "json_field", "path": "n", "value": "{{item.n}}"}, '{"n": 3}', {"n": 3}).passed
    assert run({"type": "json_field", "path": "s", "value": "id-{{item.n}}"}, '{"s": "id-3"}', {"n": 3}).passed
    assert not run(c, "[not json").passed


def test_numeric() -> None:
    c = {"type": "numeric", "value": 100, "abs_tolerance": 0.5}
    assert run(c, " 100.4\n") == Verdict(True, 1.0, "100.4 is 0.4 from 100 (≤ 0.5 allowed)")
    assert run(c, "101").reason == "101 is 1 from 100 (> 0.5 allowed)"
    assert run({"type": "numeric", "value": 100, "rel_tolerance": 0.02}, "98").passed
    assert not run({"type": "numeric", "value": 100, "rel_tolerance": 0.01}, "98").passed
    assert run({"type": "numeric", "value": 3}, "3").passed
    assert run({"type": "numeric", "value": "{{item.expected}}"}, "42", {"expected": "42"}).passed
    assert run({"type": "numeric", "value": "{{item.n}}"}, "42", {"n": 42}).passed
    assert run(c, "about 100").reason == '"about 100" is not a number'
    assert not run(c, "nan").passed and not run(c, "inf").passed
    v = run({"type": "numeric", "value": "{{item.expected}}"}, "42", {"expected": "forty"})
    assert v.error and v.reason == 'Grader error: the expected value "forty" is not a number.'
    assert run({"type": "numeric", "value": "{{item.n}}"}, "1", {"n": [1]}).error


def test_similar() -> None:
    v = run({"type": "similar"}, "The capital of France is Paris", {"expected": "the capital of france is paris."})
    assert v.passed and v.score == 1.0 and v.reason.startswith("similarity 1.00 ≥ 0.8 to")
    v = run({"type": "similar", "threshold": 0.9}, "Paris, France", {"expected": "Paris"})
    assert not v.passed and 0 < v.score < 0.9
    assert run({"type": "similar", "scorer": "partial_ratio", "threshold": 0.9}, "Paris, France", {"expected": "Paris"})
    assert run({"type": "similar", "reference": "abc"}, "abc").passed
    assert run({"type": "similar"}, "x", {}).error  # no expected answer on the case


@pytest.mark.parametrize(
    ("criterion", "figures", "passed", "reason"),
    [
        ({"type": "max_latency", "max_ms": 2000}, {"latency_ms": 1500.0}, True, "latency 1,500 ms ≤ limit 2,000 ms"),
        ({"type": "max_latency", "max_ms": 2000}, {"latency_ms": 2500.0}, False, "latency 2,500 ms > limit 2,000 ms"),
        ({"type": "max_cost", "max_usd": 0.01}, {"cost": 0.004}, True, "cost $0.004 ≤ limit $0.01"),
        ({"type": "max_cost", "max_usd": 0.01}, {"cost": 0.02}, False, "cost $0.02 > limit $0.01"),
        ({"type": "max_output_tokens", "max": 500}, {"output_tokens": 500}, True, "output tokens 500 ≤ limit 500"),
        ({"type": "max_output_tokens", "max": 500}, {"output_tokens": 1200}, False, "output tokens 1,200 > limit 500"),
    ],
)
def test_limits(criterion: dict[str, Any], figures: dict[str, Any], passed: bool, reason: str) -> None:
    assert run(criterion, "", **figures) == Verdict(passed, float(passed), reason)


@pytest.mark.parametrize(
    ("criterion", "words"),
    [
        ({"type": "max_latency", "max_ms": 10**9}, "latency unknown"),
        ({"type": "max_cost", "max_usd": 1000}, "cost unknown"),
        ({"type": "max_output_tokens", "max": 10**9}, "output tokens unknown"),
        ({"type": "finish_reason", "expected": "completed"}, "finish reason unknown"),
    ],
)
def test_an_unknown_figure_fails_with_its_reason(criterion: dict[str, Any], words: str) -> None:
    v = run(criterion, "fine")  # no figures reported: however generous the limit, it fails
    assert (v.passed, v.score, v.error) == (False, 0.0, False) and v.reason.startswith(words)


def test_finish_reason() -> None:
    assert run({"type": "finish_reason", "expected": "completed"}, "", finish_reason="completed").reason == (
        "finished 'completed'"
    )
    v = run({"type": "finish_reason", "expected": "completed"}, "", finish_reason="incomplete")
    assert not v.passed and v.reason == "finished 'incomplete', expected completed"
    assert run({"type": "finish_reason", "expected": ["completed", "requires_action"]}, "", finish_reason="completed")
    assert one({"type": "finish_reason", "expected": ["failed"]})["expected"] == ("failed",)


def test_finish_reasons_are_the_logs_run_statuses() -> None:
    from playground.store import RUN_STATUSES

    assert graders.FINISH_REASONS == RUN_STATUSES


def test_grade_all_by_name() -> None:
    gs = parse([{"type": "contains", "value": "a"}, {"type": "contains", "name": "has b", "value": "b"}])
    verdicts = graders.grade_all(gs, Sample("a"), {})
    assert list(verdicts) == ["contains", "has b"]
    assert verdicts["contains"].passed and not verdicts["has b"].passed


# --- Quoting ------------------------------------------------------------------------------------------


def test_reasons_quote_output_safely() -> None:
    long = "x" * 500
    assert graders.quote(long) == '"' + "x" * 80 + '"… (500 characters)'
    assert graders.quote('say "hi"\n\x1b[31m\u202e') == '"say \\"hi\\"\\n\\x1b[31m\\u202e"'
    assert graders.quote('a\\" b') == '"a\\\\\\" b"'  # a backslash is escaped too
    v = run({"type": "contains", "value": "zzz"}, "a" * 10_000)
    assert len(v.reason) < 200 and "(10,000 characters)" in v.reason


# --- Parse errors: one sentence naming the grader and the field ----------------------------------------


@pytest.mark.parametrize(
    ("criteria", "sentence"),
    [
        ("[]", 'The graders must be a list, or an object with a "testing_criteria" list.'),
        ({"graders": []}, 'The graders must be a list, or an object with a "testing_criteria" list.'),
        ({"testing_criteria": {}}, 'The graders must be a list, or an object with a "testing_criteria" list.'),
        (["contains"], 'testing_criteria[0] must be an object with a "type", not str.'),
        ([{"name": "x"}], 'testing_criteria[0] has no "type" (one of ' + ", ".join(graders.TYPES) + ")."),
        (
            [{"type": "contains", "name": " ", "value": "a"}],
            'testing_criteria[0]: field "name" must be non-empty text.',
        ),
        (
            [{"type": "score_model", "name": "judge"}],
            "Grader 'judge' (testing_criteria[0]): type 'score_model' is not supported here: only the "
            "deterministic graders are (" + ", ".join(graders.TYPES) + ").",
        ),
        (
            [{"type": "contain", "value": "a"}],
            "Grader 'contain' (testing_criteria[0]): unknown type 'contain' (one of " + ", ".join(graders.TYPES) + ").",
        ),
        (
            [{"type": "contains", "value": "a", "ignorecase": True}],
            "Grader 'contains' (testing_criteria[0]): unknown field 'ignorecase' for type 'contains' "
            "(it takes input, value, ignore_case).",
        ),
        ([{"type": "contains"}], "Grader 'contains' (testing_criteria[0]): field 'value' is missing."),
        (
            [{"type": "contains", "value": ""}],
            "Grader 'contains' (testing_criteria[0]): field 'value' must be non-empty text, not \"\".",
        ),
        (
            [{"type": "contains", "value": "a", "ignore_case": "yes"}],
            "Grader 'contains' (testing_criteria[0]): field 'ignore_case' must be true or false, not \"yes\".",
        ),
        (
            [{"type": "contains", "value": "a", "input": 3}],
            "Grader 'contains' (testing_criteria[0]): field 'input' must be text (it may hold {{…}} templates), not 3.",
        ),
        (
            [{**OPENAI_STRING_CHECK, "operation": "equals"}],
            "Grader 'Example string check grader' (testing_criteria[0]): field 'operation' must be one of "
            'eq, ne, like, ilike, not "equals".',
        ),
        (
            [{**OPENAI_STRING_CHECK, "operation": "neq"}],
            "Grader 'Example string check grader' (testing_criteria[0]): field 'operation' is 'neq': "
            "OpenAI's API spells it 'ne'.",
        ),
        (
            [{k: v for k, v in OPENAI_STRING_CHECK.items() if k != "reference"}],
            "Grader 'Example string check grader' (testing_criteria[0]): field 'reference' is missing.",
        ),
        (
            [{**OPENAI_TEXT_SIMILARITY, "evaluation_metric": "bleu"}],
            "Grader 'Example text similarity grader' (testing_criteria[0]): evaluation_metric 'bleu' is not "
            "supported here (only 'fuzzy_match'; for a threshold on closeness use it or the 'similar' type).",
        ),
        (
            [{**OPENAI_TEXT_SIMILARITY, "evaluation_metric": "levenshtein"}],
            "Grader 'Example text similarity grader' (testing_criteria[0]): field 'evaluation_metric' must be "
            "one of " + ", ".join(graders.OPENAI_METRICS) + ', not "levenshtein".',
        ),
        (
            [{k: v for k, v in OPENAI_TEXT_SIMILARITY.items() if k != "pass_threshold"}],
            "Grader 'Example text similarity grader' (testing_criteria[0]): field 'pass_threshold' is missing.",
        ),
        (
            [{**OPENAI_TEXT_SIMILARITY, "pass_threshold": 80}],
            "Grader 'Example text similarity grader' (testing_criteria[0]): field 'pass_threshold' must be "
            "a number 0–1, not 80.",
        ),
        (
            [{"type": "regex", "pattern": "(unclosed"}],
            "Grader 'regex' (testing_criteria[0]): field 'pattern' is not a valid regular expression "
            "(missing ) at position 9).",
        ),
        (
            [{"type": "regex", "pattern": ""}],
            "Grader 'regex' (testing_criteria[0]): field 'pattern' must be a non-empty regular expression, not \"\".",
        ),
        (
            [{"type": "json_schema", "schema": "object"}],
            "Grader 'json_schema' (testing_criteria[0]): field 'schema' must be a JSON Schema object, not \"object\".",
        ),
        (
            [{"type": "json_schema", "schema": {"type": "objekt"}}],
            "Grader 'json_schema' (testing_criteria[0]): field 'schema' is not a valid JSON Schema ('objekt' is "
            "not valid under any of the given schemas).",
        ),
        (
            [{"type": "json_field", "path": "a..b", "value": 1}],
            "Grader 'json_field' (testing_criteria[0]): field 'path' must be a path like a.b[0].c, not \"a..b\".",
        ),
        (
            [{"type": "json_field", "path": "a", "value": "{{oops}}"}],
            "Grader 'json_field' (testing_criteria[0]): field 'value': {{oops}} is not a template this app knows: "
            "use {{item.<field>}}, {{sample.output_text}} or {{sample.output_json.<path>}}.",
        ),
        (
            [{"type": "numeric", "value": "12"}],
            "Grader 'numeric' (testing_criteria[0]): field 'value' must be a number or a {{…}} template, not \"12\".",
        ),
        (
            [{"type": "numeric", "value": True}],
            "Grader 'numeric' (testing_criteria[0]): field 'value' must be a number or a {{…}} template, not true.",
        ),
        (
            [{"type": "numeric", "value": "{{x.y}}"}],
            "Grader 'numeric' (testing_criteria[0]): field 'value': {{x.y}} is not a template this app knows: "
            "use {{item.<field>}}, {{sample.output_text}} or {{sample.output_json.<path>}}.",
        ),
        (
            [{"type": "numeric", "value": 1, "abs_tolerance": -1}],
            "Grader 'numeric' (testing_criteria[0]): field 'abs_tolerance' must be a number ≥ 0, not -1.",
        ),
        (
            [{"type": "similar", "threshold": 1.5}],
            "Grader 'similar' (testing_criteria[0]): field 'threshold' must be a number 0–1, not 1.5.",
        ),
        (
            [{"type": "similar", "scorer": ["ratio"]}],
            "Grader 'similar' (testing_criteria[0]): field 'scorer' must be one of "
            + ", ".join(graders.SCORERS)
            + ', not ["ratio"].',
        ),
        (
            [{"type": "max_latency", "max_ms": "2s"}],
            "Grader 'max_latency' (testing_criteria[0]): field 'max_ms' must be a number ≥ 0, not \"2s\".",
        ),
        (
            [{"type": "max_cost", "max_usd": float("nan")}],
            "Grader 'max_cost' (testing_criteria[0]): field 'max_usd' must be a number ≥ 0, not NaN.",
        ),
        (
            [{"type": "max_output_tokens"}],
            "Grader 'max_output_tokens' (testing_criteria[0]): field 'max' is missing.",
        ),
        (
            [{"type": "finish_reason", "expected": "stop"}],
            "Grader 'finish_reason' (testing_criteria[0]): field 'expected' must be one of "
            + ", ".join(graders.FINISH_REASONS)
            + ' (or a list of them), not "stop".',
        ),
        (
            [{"type": "finish_reason", "expected": []}],
            "Grader 'finish_reason' (testing_criteria[0]): field 'expected' must be one of "
            + ", ".join(graders.FINISH_REASONS)
            + " (or a list of them), not [].",
        ),
        (
            [{"type": "contains", "value": "a"}, {"type": "contains", "value": "b"}],
            "Two graders are named 'contains': give each a \"name\" of its own.",
        ),
    ],
)
def test_parse_errors(criteria: Any, sentence: str) -> None:
    assert refused(criteria) == sentence


def test_the_second_grader_is_named_by_its_index() -> None:
    message = refused([{"type": "valid_json"}, {"type": "regex", "name": "phone", "pattern": "["}])
    assert message.startswith("Grader 'phone' (testing_criteria[1]): field 'pattern' is not a valid regular")


def test_graders_json_that_is_not_json() -> None:
    with pytest.raises(GraderError, match=r"^The graders are not valid JSON \(Expecting"):
        graders.parse_json("[{")


def test_grader_error_is_a_value_error() -> None:
    assert issubclass(GraderError, ValueError)


def test_defaults_are_filled_in() -> None:
    g = one({"type": "similar"})
    assert (g.name, g["input"], g["reference"], g["threshold"], g["scorer"]) == (
        "similar",
        "{{sample.output_text}}",
        "{{item.expected}}",
        0.8,
        "ratio",
    )
