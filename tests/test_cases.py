"""Test cases: filling declared variables, reading and writing cases as CSV and JSONL, missing variables."""

from __future__ import annotations

import csv
import io
import json

import pytest

from playground import export
from playground.assistant import AssistantConfig, Variable, fill
from playground.cases import Case, CasesError, missing_variables, read_csv, read_jsonl, write_csv, write_jsonl

# -- filling ---------------------------------------------------------------------------------------


def test_declared_names_are_filled_with_or_without_spaces():
    text = "Weather in {{city}}, then {{ city }} and {{\tunit }}."
    assert fill(text, {"city": "Paris", "unit": "C"}) == "Weather in Paris, then Paris and C."


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}',
        "{{unknown}}",
        "{{ item.x }}",
        "{{ sample.output_text }}",
        "{ city }",
        "{{ 1city }}",
        "{{city\n}}",  # a line break is not a space here: a name never spans lines
        "",
    ],
)
def test_other_braces_stay_text(text):
    assert fill(text, {"city": "Paris"}) == text


def test_filling_is_one_pass_and_takes_values_literally():
    # A value holding a placeholder or a regex back-reference goes in as it is.
    values = {"a": "{{b}}", "b": r"\1 and \g<0>"}
    assert fill("{{a}} / {{b}}", values) == r"{{b}} / \1 and \g<0>"


def test_braces_around_a_filled_name_stay():
    assert fill('{"city": "{{city}}"} {{{city}}}', {"city": "Oslo"}) == '{"city": "Oslo"} {Oslo}'


def test_only_declared_variables_fill_the_instructions():
    config = AssistantConfig(
        instructions="Answer about {{city}} in {{ lang }}; keep {{other}} and {{ item.input }}.",
        variables=[Variable("city", "Paris"), Variable("lang", "French")],
    )
    assert config.filled().instructions == "Answer about Paris in French; keep {{other}} and {{ item.input }}."
    # A case's values win over the defaults; names it gives that are not declared are not filled.
    filled = config.filled({"city": "Rome", "other": "x"})
    assert filled.instructions == "Answer about Rome in French; keep {{other}} and {{ item.input }}."
    assert config.instructions.startswith("Answer about {{city}}")  # the version keeps its template
    assert config.values({"city": "Rome", "other": "x"}) == {"city": "Rome", "lang": "French"}


def test_a_config_without_variables_is_sent_as_it_is():
    config = AssistantConfig(instructions="Keep {{city}}.")
    assert config.filled() is config


# -- CSV -------------------------------------------------------------------------------------------


def test_csv_columns_become_input_expected_tags_and_variables():
    text = (
        'input,expected,tags,city,unit\nWeather in {{city}}?,Sunny,"smoke, weather; regression",Paris,C\nJust hi,,,,\n'
    )
    assert list(read_csv(text)) == [
        Case("Weather in {{city}}?", "Sunny", {"city": "Paris", "unit": "C"}, ["smoke", "weather", "regression"]),
        Case("Just hi", None, {}, []),  # an empty cell is not given
    ]


def test_csv_tolerates_a_byte_order_mark_crlf_and_binary_files():
    data = '\ufeffinput,expected\r\n"two\r\nlines",ok\r\n'.encode()
    for source in (data, io.BytesIO(data), data.decode("utf-8"), io.StringIO(data.decode("utf-8-sig"))):
        assert list(read_csv(source)) == [Case("two\r\nlines", "ok")]


def test_csv_reserved_columns_are_found_whatever_their_case():
    assert list(read_csv("Input,Expected,Tags,City\nhi,yo,a,Oslo\n")) == [Case("hi", "yo", {"City": "Oslo"}, ["a"])]


def test_a_csv_without_an_input_column_is_refused_in_one_sentence():
    with pytest.raises(CasesError) as e:
        read_csv("question,answer\nhi,yo\n")  # refused at once, before any row is asked for
    assert str(e.value) == "The CSV has no \"input\" column (its first row names these columns: 'question', 'answer')."
    with pytest.raises(CasesError, match='no "input" column'):
        read_csv("")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input,expected\nhi,yo\n,only expected\n", "Line 3 has no input."),
        ("input,expected\nhi,yo,extra\n", "Line 2 has more cells than the header has columns (2)."),
        ("input,,city\nhi,oops,Paris\n", "Line 2 has a value in column 2, which has no name in the first row."),
        ("input,city,city\nhi,a,b\n", "The CSV names the column 'city' more than once."),
        ("input,Input\nhi,yo\n", "The CSV has more than one 'input' column."),
        (b"input\nhi\nok \xff\n", "Line 3 is not UTF-8 text (byte 4); save the file as UTF-8."),
    ],
)
def test_csv_errors_name_their_line(text, message):
    with pytest.raises(CasesError) as e:
        list(read_csv(text if isinstance(text, str) else io.BytesIO(text)))
    assert str(e.value) == message


def test_csv_blank_rows_and_trailing_empty_columns_are_skipped():
    text = "input,expected,,\nhi,yo,,\n,,,\n\nbye,,,\n"
    assert list(read_csv(text)) == [Case("hi", "yo"), Case("bye")]


def test_csv_export_neutralises_formulas_and_reads_back_exactly():
    cases = [
        Case('=HYPERLINK("http://evil")', "+1", {"city": "@SUM(A1)", "unit": "-2"}, ["a", "b"]),
        Case("'=already quoted", None, {"unit": "C"}),
        Case('plain, with "quotes"\nand a line', "ok", {}, []),
    ]
    text = write_csv(cases)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["input", "expected", "tags", "city", "unit"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil")' and rows[1][1] == "'+1" and rows[1][3] == "'@SUM(A1)"
    assert rows[2][0] == "''=already quoted"
    assert list(read_csv(text)) == cases
    # The same neutralising as every other CSV the app writes (not a copy of it).
    assert export.read_csv(text)[0]["input"] == cases[0].input


# -- JSONL -----------------------------------------------------------------------------------------


def test_jsonl_flat_rows_and_evals_item_rows():
    lines = [
        {"input": "Weather in {{city}}?", "expected": "Sunny", "tags": ["smoke"], "city": "Paris"},
        {"item": {"input": "2+2?", "expected": 4, "numbers": [1, 2], "meta": {"a": 1}, "flag": True}, "sample": {}},
        {"input": "no expectation", "tags": "a; b", "gone": None},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n\n"
    assert list(read_jsonl(text)) == [
        Case("Weather in {{city}}?", "Sunny", {"city": "Paris"}, ["smoke"]),
        # Values that are not strings become their JSON text; a null one is not given.
        Case("2+2?", "4", {"numbers": "[1, 2]", "meta": '{"a": 1}', "flag": "true"}, []),
        Case("no expectation", None, {}, ["a", "b"]),
    ]


def test_jsonl_from_a_binary_file_with_a_byte_order_mark():
    data = ('\ufeff{"input": "hi", "city": "Zürich"}\r\n').encode()
    assert list(read_jsonl(io.BytesIO(data))) == [Case("hi", None, {"city": "Zürich"})]
    with pytest.raises(CasesError, match=r"^Line 2 is not UTF-8 text \(byte 12\)"):
        list(read_jsonl(data + b'{"input": "\xe9"}\n'))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"input": "hi"', "Line 3 is not valid JSON: Expecting ',' delimiter."),
        ("[1, 2]", "Line 3 is not a JSON object."),
        ('{"expected": "x"}', 'Line 3 has no "input".'),
        ('{"item": {"question": "x"}}', 'Line 3 has no "input".'),
        ('{"input": ["a"]}', 'Line 3: "input" must be text, not a list.'),
        ('{"input": "  "}', 'Line 3: "input" is empty.'),
        ('{"input": "x", "tags": [1]}', 'Line 3: "tags" must be a list of text.'),
    ],
)
def test_a_bad_jsonl_line_is_named_by_its_number(line, message):
    text = '{"input": "fine"}\n\n' + line + '\n{"input": "never read"}\n'
    rows = read_jsonl(text)
    assert next(rows) == Case("fine")  # rows before the bad one were already usable
    with pytest.raises(CasesError) as e:
        list(rows)
    assert str(e.value) == message


def test_jsonl_round_trip():
    cases = [
        Case("a\nb", "x", {"city": "Paris", "note": '{"k": 1}'}, ["t1", "t2"]),
        Case("no expected", None, {}, []),
        Case("empty expected", "", {"blank": ""}, []),
    ]
    text = write_jsonl(cases)
    assert json.loads(text.splitlines()[1]) == {"input": "no expected"}
    assert list(read_jsonl(text)) == cases


def test_thousands_of_rows_stream():
    text = write_jsonl(Case(f"q{i}", str(i), {"n": str(i)}) for i in range(5000))
    rows = read_jsonl(text)
    assert next(rows).input == "q0"  # a generator: nothing after the first row is read yet
    assert sum(1 for _ in rows) == 4999
    assert sum(1 for _ in read_csv(write_csv(read_jsonl(text)))) == 5000


# -- missing variables -----------------------------------------------------------------------------


def test_missing_variables_are_named_in_declared_order():
    case = Case("hi", variables={"city": "Paris", "extra": "x", "blank": ""})
    declared = [Variable("unit", "C"), Variable("city"), Variable("lang", "en"), Variable("blank")]
    # A default does not stand in for a case's value: the case says every value it runs with.
    assert missing_variables(case, declared) == ["unit", "lang"]
    assert missing_variables(case, ["city", "blank"]) == []


def test_the_python_snippet_sends_the_instructions_a_chat_turn_sends():
    config = AssistantConfig(instructions="About {{city}} and {{other}}.", variables=[Variable("city", "Paris")])
    assert "'About Paris and {{other}}.'" in export.python_snippet(config)
