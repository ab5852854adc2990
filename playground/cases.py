"""Test cases: an input, an optional expected output, variables and tags; read from and written to CSV and JSONL.

A file is read row by row (a generator), so an import of thousands of cases never sits in memory twice
and a bad row is named by its line before anything after it is read. Every problem is a `CasesError`
worded in one sentence for the person who made the file.

CSV: the columns `input`, `expected` and an optional `tags` (comma or semicolon separated); every other
column is a variable. An empty cell is "not given": an empty `expected` means no expectation, and an
empty variable cell leaves the variable out, so `missing_variables` names it before a run. The file is
UTF-8, with or without a byte order mark; cells written by `write_csv` come back exactly (formulas are
neutralised on the way out by `export.csv_text`, and that apostrophe is taken off again here).

JSONL: one object a line, either flat (`{"input": …, "expected": …, "tags": [...], other keys are
variables}`) or an OpenAI Evals row (`{"item": {the same keys}}`, other top-level keys such as `sample`
ignored). A value that is not a string becomes its JSON text (`3` → "3", `{"a": 1}` → '{"a": 1}'); a
null one is not given.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from playground import export
from playground.assistant import Variable

INPUT, EXPECTED, TAGS = "input", "expected", "tags"
_TAG_SEPARATORS = re.compile(r"[,;]")


class CasesError(ValueError):
    """A cases file that cannot be read, said in one sentence (with its line where there is one)."""


@dataclass
class Case:
    input: str
    expected: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


Source = str | bytes | IO[str] | IO[bytes]


# -- reading ----------------------------------------------------------------------------------------


def read_csv(source: Source) -> Iterator[Case]:
    """The cases of a CSV (text, bytes or an open file, text or binary), one at a time.

    The header is read at once, so a file without an `input` column is refused before any row; a bad
    row raises `CasesError` naming its line when the iteration reaches it.
    """
    reader = csv.reader(_lines(source))
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise CasesError(f"The CSV cannot be read on line {reader.line_num or 1}: {_why(e)}.") from e
    columns = [name.strip() for name in header or []]
    lowered = [name.lower() for name in columns]
    if INPUT not in lowered:
        found = ", ".join(repr(c) for c in columns if c) or "none"
        raise CasesError(f'The CSV has no "input" column (its first row names these columns: {found}).')
    named = [c for c in columns if c]
    for name in named:
        if named.count(name) > 1:
            raise CasesError(f"The CSV names the column {name!r} more than once.")
    for name in (INPUT, EXPECTED, TAGS):
        if lowered.count(name) > 1:
            raise CasesError(f"The CSV has more than one {name!r} column.")
    return _csv_rows(reader, columns, lowered)


def _csv_rows(reader: Any, columns: list[str], lowered: list[str]) -> Iterator[Case]:
    while True:
        try:
            row = next(reader, None)
        except csv.Error as e:
            raise CasesError(f"The CSV cannot be read on line {reader.line_num}: {_why(e)}.") from e
        if row is None:
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank rows, as spreadsheets leave below the data
        if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns) :]):
            raise CasesError(f"Line {line} has more cells than the header has columns ({len(columns)}).")
        case = Case(input="")
        for n, (name, key) in enumerate(zip(columns, lowered, strict=True)):
            cell = export.restore_cell(row[n]) if n < len(row) else None
            if not cell:
                continue  # empty: not given
            if key == INPUT:
                case.input = cell
            elif key == EXPECTED:
                case.expected = cell
            elif key == TAGS:
                case.tags = _split_tags(cell)
            elif name:
                case.variables[name] = cell
            elif cell.strip():
                raise CasesError(f"Line {line} has a value in column {n + 1}, which has no name in the first row.")
        if not case.input.strip():
            raise CasesError(f"Line {line} has no input.")
        yield case


def read_jsonl(source: Source) -> Iterator[Case]:
    """The cases of a JSONL file (text, bytes or an open file), one at a time; blank lines are skipped.

    A line that is not a JSON object, or has no text `input`, raises `CasesError` naming its line
    when the iteration reaches it.
    """
    for line, text in enumerate(_lines(source), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except RecursionError:
            raise CasesError(f"Line {line} is nested too deeply to read.") from None
        except ValueError as e:
            raise CasesError(f"Line {line} is not valid JSON: {getattr(e, 'msg', _why(e))}.") from e
        if not isinstance(row, dict):
            raise CasesError(f"Line {line} is not a JSON object.")
        if isinstance(row.get("item"), dict):  # an OpenAI Evals row: the case is its item
            row = row["item"]
        yield _case_from_object(row, line)


def _case_from_object(row: dict[str, Any], line: int) -> Case:
    text = row.get(INPUT)
    if text is None:
        raise CasesError(f'Line {line} has no "input".')
    if not isinstance(text, str):
        raise CasesError(f'Line {line}: "input" must be text, not {_kind(text)}.')
    if not text.strip():
        raise CasesError(f'Line {line}: "input" is empty.')
    tags = row.get(TAGS)
    if tags is None:
        tag_list: list[str] = []
    elif isinstance(tags, str):
        tag_list = _split_tags(tags)
    elif isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        tag_list = [t.strip() for t in tags if t.strip()]
    else:
        raise CasesError(f'Line {line}: "tags" must be a list of text.')
    expected = row.get(EXPECTED)
    return Case(
        input=text,
        expected=None if expected is None else _text(expected),
        variables={k: _text(v) for k, v in row.items() if k not in (INPUT, EXPECTED, TAGS) and v is not None},
        tags=tag_list,
    )


def _lines(source: Source) -> Iterator[str]:
    """Lines of text, the byte order mark taken off. Bytes are decoded as UTF-8 line by line, so text
    that is not UTF-8 is named by its line (and a binary file is read as it goes, never whole)."""
    if isinstance(source, str):
        # newline="": lines split at \n, \r\n or \r, and a quoted CSV cell keeps its own line breaks.
        yield from io.StringIO(source.removeprefix("\ufeff"), newline="")
        return
    lines: Iterable[str | bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
    for n, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):  # a file opened in binary, as an upload is
            try:
                raw = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise CasesError(f"Line {n} is not UTF-8 text (byte {e.start + 1}); save the file as UTF-8.") from e
        yield raw.removeprefix("\ufeff") if n == 1 else raw


def _split_tags(text: str) -> list[str]:
    return [t.strip() for t in _TAG_SEPARATORS.split(text) if t.strip()]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def _why(exc: BaseException) -> str:
    return str(exc).rstrip(".") or type(exc).__name__


# -- writing ----------------------------------------------------------------------------------------


def write_csv(cases: Iterable[Case]) -> str:
    """The cases as CSV that `read_csv` reads back: `input`, `expected`, `tags`, then one column per
    variable in the order first met. Cells a spreadsheet would run as formulas are neutralised."""
    cases = list(cases)  # the columns are every case's variables, known only once all are seen
    names: dict[str, None] = {}
    for case in cases:
        names.update(dict.fromkeys(case.variables))
    rows = (
        {
            INPUT: case.input,
            EXPECTED: case.expected or "",
            TAGS: ", ".join(case.tags),
            **{name: case.variables.get(name, "") for name in names},
        }
        for case in cases
    )
    return export.csv_text([INPUT, EXPECTED, TAGS, *names], rows)


def write_jsonl(cases: Iterable[Case]) -> str:
    """The cases as flat JSONL objects that `read_jsonl` reads back; no expected or no tags are left out."""
    out = io.StringIO()
    for case in cases:
        row: dict[str, Any] = {INPUT: case.input}
        if case.expected is not None:
            row[EXPECTED] = case.expected
        if case.tags:
            row[TAGS] = list(case.tags)
        row.update(case.variables)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out.getvalue()


# -- checking ---------------------------------------------------------------------------------------


def missing_variables(case: Case, declared: Iterable[str | Variable]) -> list[str]:
    """The declared variables `case` gives no value for, in declared order: a run refuses such a case
    before it starts (a default is for chatting; a case says every value it is run with)."""
    names = [d.name if isinstance(d, Variable) else d for d in declared]
    return [name for name in dict.fromkeys(names) if name not in case.variables]
