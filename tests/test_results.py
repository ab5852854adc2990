"""Results of evaluation runs, read from the log: summary, pivot across versions, case rows and exports.

Results are written through the store directly (as the runner writes them), so no turn runs here.
"""

from __future__ import annotations

import json

import pytest

from playground import export, replay, results, usage
from playground.assistant import AssistantConfig

PRICES = {"gpt-4.1-mini": usage.Price("gpt-4.1-mini", 0.40, 1.60)}
GRADERS = [
    {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}", "reference": "{{item.expected}}",
     "operation": "eq"},
    {"type": "regex", "name": "digits", "pattern": "[0-9]"},
]  # fmt: skip


def _verdict(name, passed, score=None, reason="", error=False):
    score = (1.0 if passed else 0.0) if score is None else score
    return {"name": name, "passed": passed, "score": score, "reason": reason, "error": error}


def _result(store, replay_id, case_id, output, *, verdicts=None, status="completed", latency=100.0, tokens=(10, 5),
            model="gpt-4.1-mini", error=None):  # fmt: skip
    passed = None if verdicts is None else int(all(v["passed"] for v in verdicts))
    score = None if not verdicts else sum(v["score"] for v in verdicts) / len(verdicts)
    store.add_replay_result(
        replay_id, case_id, output=output, status=status, latency_ms=latency, error=error, model=model,
        input_tokens=tokens[0] if tokens else None, output_tokens=tokens[1] if tokens else None,
        total_tokens=sum(tokens) if tokens else None,
        verdicts=None if verdicts is None else json.dumps(verdicts), passed=passed, score=score,
    )  # fmt: skip


@pytest.fixture
def evaluated(store):
    """A set of four cases run on v1 (two pass, one fails, one ungraded) and v2 (all pass), finished."""
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="Maths", instructions="v1"))
    v2, _ = store.save_version(a.id, AssistantConfig(name="Maths", instructions="v2"))
    set_id = store.create_test_set("sums", [])
    store.add_cases(
        set_id,
        [{"input": "1+1", "expected": "2"}, {"input": "2+2", "expected": "4", "variables": {"tone": "dry"}},
         {"input": "=3+3", "expected": "6", "tags": ["hard"]}, {"input": "4+4", "expected": "8"}],
    )  # fmt: skip
    store.set_graders(set_id, json.dumps(GRADERS))
    cases = store.test_cases(set_id)
    graders = json.dumps(GRADERS)
    first = store.start_replay(set_id, v1.id, graders=graders, concurrency=4)
    ok = [_verdict("exact", True, reason="equal"), _verdict("digits", True, reason="found")]
    _result(store, first, cases[0]["id"], "2", verdicts=ok, latency=100)
    _result(store, first, cases[1]["id"], "4", verdicts=ok, latency=200)
    bad = [_verdict("exact", False, reason='"seven" is not "6"'), _verdict("digits", False, reason="no digit")]
    _result(store, first, cases[2]["id"], "seven", verdicts=bad, latency=300)
    _result(store, first, cases[3]["id"], "", status="failed", tokens=None, latency=None, error="Rate limited.")
    store.finish_replay(first, "completed")
    second = store.start_replay(set_id, v2.id, graders=graders, concurrency=4)
    for case, out, ms in zip(cases, ["2", "4", "6", "8"], [100, 110, 120, 1000], strict=True):
        _result(store, second, case["id"], out, verdicts=ok, latency=ms)
    store.finish_replay(second, "completed")
    return {"set_id": set_id, "first": first, "second": second, "cases": cases, "v1": v1, "v2": v2}


def test_summary_counts_ungraded_cases_as_not_passed_and_rolls_up_each_grader(store, evaluated):
    s = results.summary(store, evaluated["first"], PRICES)
    assert (s["cases"], s["done"], s["passed"], s["failed"], s["ungraded"]) == (4, 4, 2, 1, 1)
    assert s["pass_rate"] == 0.5  # 2 of 4: the ungraded case is not a pass
    assert [g["name"] for g in s["graders"]] == ["exact", "digits"]
    exact = s["graders"][0]
    assert (exact["graded"], exact["passed"], exact["pass_rate"], exact["mean_score"], exact["errors"]) == (
        3, 2, 2 / 3, 2 / 3, 0
    )  # fmt: skip
    assert (s["input_tokens"], s["output_tokens"]) == (30, 15)
    assert s["usage_unknown"] == 0  # refused before any output: nothing used, known zero
    assert s["cost"] == pytest.approx((30 * 0.40 + 15 * 1.60) / 1e6)
    assert (s["p50_latency_ms"], s["p90_latency_ms"]) == (200, 280)
    assert (s["version"], s["assistant"], s["status"], s["interrupted"]) == (1, "Maths", "completed", False)
    json.dumps(s)  # the command line prints it as it is


def test_summary_cost_is_none_when_any_usage_is_unknown_or_unpriced(store, evaluated):
    s = results.summary(store, evaluated["first"], {})
    assert s["cost"] is None  # no price for the model
    set_id, case = evaluated["set_id"], evaluated["cases"][0]
    run = store.start_replay(set_id, evaluated["v2"].id, graders=json.dumps(GRADERS))
    _result(store, run, case["id"], "partial", status="incomplete", tokens=None, verdicts=[_verdict("exact", False)])
    s = results.summary(store, run, PRICES)
    assert s["cost"] is None and s["usage_unknown"] == 1
    # Still running: the cases not reached yet count in `cases`, not in the rate.
    assert (s["cases"], s["done"], s["pass_rate"], s["status"]) == (4, 1, 0.0, "running")


def test_grader_errors_are_counted_and_shown_as_errors(store, evaluated):
    set_id, cases = evaluated["set_id"], evaluated["cases"]
    run = store.start_replay(set_id, evaluated["v2"].id, graders=json.dumps(GRADERS))
    broken = [_verdict("exact", False, reason="Grader error: the case has no field 'expected'.", error=True),
              _verdict("digits", True, score=1.0, reason="found")]  # fmt: skip
    _result(store, run, cases[0]["id"], "2", verdicts=broken)
    s = results.summary(store, run, PRICES)
    assert s["graders"][0]["errors"] == 1 and s["failed"] == 1
    row = results.case_rows(store, run, prices=PRICES)[0]
    assert row["exact"] == "error — Grader error: the case has no field 'expected'."
    assert row["digits"] == "pass 1.00 — found"


def test_pivot_is_one_row_per_run_oldest_first_with_each_grader(store, evaluated):
    rows = results.pivot(store, evaluated["set_id"], PRICES)
    assert [(r["version"], r["run"], r["pass rate"]) for r in rows] == [
        (1, evaluated["first"], 0.5), (2, evaluated["second"], 1.0)
    ]  # fmt: skip
    first = rows[0]
    assert first["exact pass rate"] == pytest.approx(2 / 3) and first["digits mean score"] == pytest.approx(2 / 3)
    assert rows[1]["exact pass rate"] == 1.0
    assert rows[1]["p50 latency ms"] == 115 and rows[1]["p90 latency ms"] == pytest.approx(736)
    assert list(first)[:5] == ["assistant", "version", "run", "date", "status"]
    assert {"input tokens", "output tokens", "usage unknown", "cost", "p50 latency ms", "p90 latency ms"} <= set(first)
    import pandas as pd

    frame = pd.DataFrame(rows)  # what the page draws and charts
    assert frame["pass rate"].tolist() == [0.5, 1.0]


def test_pivot_leaves_a_grader_a_run_did_not_have_empty(store, evaluated):
    run = store.start_replay(evaluated["set_id"], evaluated["v2"].id, graders=json.dumps(GRADERS[:1]))
    _result(store, run, evaluated["cases"][0]["id"], "2", verdicts=[_verdict("exact", True)])
    store.finish_replay(run, "stopped")
    last = results.pivot(store, evaluated["set_id"], PRICES)[-1]
    assert last["digits pass rate"] is None and last["exact pass rate"] == 1.0
    assert (last["status"], last["cases"], last["done"]) == ("stopped", 4, 1)


def test_case_rows_show_each_verdict_and_the_baseline_beside(store, evaluated):
    rows = results.case_rows(store, evaluated["second"], evaluated["first"], PRICES)
    assert [r["#"] for r in rows] == [1, 2, 3, 4]
    third = rows[2]
    assert (third["input"], third["expected"], third["output"], third["passed"]) == ("=3+3", "6", "6", True)
    assert third["exact"] == "pass 1.00 — equal"
    assert (third["baseline output"], third["baseline passed"]) == ("seven", False)
    assert rows[3]["baseline passed"] is None  # ungraded there
    assert results.changes(rows) == {"regressed": [], "fixed": [3]}
    back = results.changes(results.case_rows(store, evaluated["first"], evaluated["second"], PRICES))
    assert back == {"regressed": [3], "fixed": []}
    alone = results.case_rows(store, evaluated["first"], prices=PRICES)
    assert "baseline output" not in alone[0]
    assert alone[2]["exact"] == 'fail 0.00 — "seven" is not "6"'
    assert (alone[3]["exact"], alone[3]["passed"], alone[3]["error"], alone[3]["cost"]) == (
        None, None, "Rate limited.", 0.0
    )  # fmt: skip
    assert alone[0]["cost"] == pytest.approx((10 * 0.40 + 5 * 1.60) / 1e6)
    assert list(alone[0]) == ["#", "input", "expected", "output", "status", "exact", "digits", "passed", "error",
                              "tokens", "cost", "latency ms"]  # fmt: skip


def test_a_grader_named_like_a_column_keeps_its_own_column(store, evaluated):
    criteria = [{"type": "contains", "name": "output", "value": "2"}]
    run = store.start_replay(evaluated["set_id"], evaluated["v1"].id, graders=json.dumps(criteria))
    _result(store, run, evaluated["cases"][0]["id"], "2", verdicts=[_verdict("output", True, reason="has it")])
    row = results.case_rows(store, run, prices=PRICES)[0]
    assert row["output"] == "2" and row["output (grader)"] == "pass 1.00 — has it"


def test_a_case_not_in_the_baseline_says_so(store, evaluated):
    late = store.add_cases(evaluated["set_id"], [{"input": "5+5", "expected": "10"}])
    assert late == 1
    new_case = store.test_cases(evaluated["set_id"])[-1]
    run = store.start_replay(evaluated["set_id"], evaluated["v2"].id, graders=json.dumps(GRADERS))
    _result(store, run, new_case["id"], "10", verdicts=[_verdict("exact", True), _verdict("digits", True)])
    [row] = results.case_rows(store, run, evaluated["first"], PRICES)
    assert (row["#"], row["baseline output"], row["baseline passed"]) == (5, "(not in baseline)", None)


def test_csv_neutralises_formulas_and_reads_back(store, evaluated):
    set_id, case = evaluated["set_id"], evaluated["cases"][0]
    run = store.start_replay(set_id, evaluated["v1"].id, graders=json.dumps(GRADERS))
    _result(store, run, case["id"], '=HYPERLINK("http://x")', verdicts=[_verdict("exact", False, reason="@SUM(A1)")])
    rows = results.case_rows(store, run, evaluated["first"], PRICES)
    text = results.results_csv(rows)
    assert "'=HYPERLINK" in text and "fail 0.00 — @SUM(A1)" in text  # only a cell's start is a formula
    [back] = export.read_csv(text)
    assert back["output"] == '=HYPERLINK("http://x")' and back["passed"] == "false"
    assert back["cost"] == "0.000012" and back["digits"] == ""  # plain decimals; empty: not graded
    table = export.read_csv(results.results_csv(results.pivot(store, set_id, PRICES)))
    assert [r["pass rate"] for r in table] == ["0.5", "1", "0"]


def test_jsonl_has_one_object_per_case_with_its_verdicts(store, evaluated):
    lines = results.results_jsonl(store, evaluated["first"], PRICES).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["case"] for r in records] == [1, 2, 3, 4]
    second = records[1]
    assert second["variables"] == {"tone": "dry"} and second["expected"] == "4"
    assert [v["name"] for v in second["verdicts"]] == ["exact", "digits"] and second["passed"] is True
    assert records[2]["tags"] == ["hard"] and records[2]["passed"] is False
    assert records[3]["passed"] is None and records[3]["verdicts"] == [] and records[3]["error"] == "Rate limited."


def test_another_owners_run_is_not_found(store, evaluated):
    from playground.store import Store

    other = Store(store.path, owner="key:someone")
    with pytest.raises(LookupError):
        results.summary(other, evaluated["first"], PRICES)
    with pytest.raises(LookupError):
        results.results_jsonl(other, evaluated["first"], PRICES)
    assert results.pivot(other, evaluated["set_id"], PRICES) == []


def test_percentile_interpolates_between_ranks():
    assert replay.percentile([], 50) is None
    assert replay.percentile([7.0], 90) == 7.0
    assert replay.percentile([1, 2, 3, 4], 50) == 2.5
    assert replay.percentile([100, 200, 300], 90) == 280


def test_grader_names_come_from_the_criteria_even_unparsable_ones():
    assert results.grader_names(json.dumps(GRADERS)) == ["exact", "digits"]
    assert results.grader_names(json.dumps({"testing_criteria": [{"type": "valid_json"}]})) == ["valid_json"]
    assert results.grader_names('[{"type": "label_model", "name": "judge"}]') == ["judge"]
    assert results.grader_names("not json") == [] and results.grader_names(None) == []
