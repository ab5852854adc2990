"""An evaluation's results for people and for programs: a run's summary, a pivot of the runs of a test
set across versions, one row per case with each grader's verdict, and the results as CSV and JSONL.

Everything here reads the log (`Store.replay_results`, `Store.list_replays`); nothing runs a turn.
Model output and graders' reasons are data: they are returned as they are, never rendered as markdown
(a page shows them in dataframes or as literal text).

How a case counts:
- *passed*: it has a result and every grader passed (`passed` = 1 in the log);
- *failed*: it has a result and at least one grader failed or could not grade (`passed` = 0);
- *ungraded*: it has a result, but no verdicts (`passed` is NULL): the turn failed upstream (an API
  error, a cut stream), so there was no output to grade.
The pass rate is passed / cases with a result: an ungraded case counts as not passed (the command line
exits 3 on any, so an outage never reads as a pass or as a plain regression). A case the run has not
reached yet (stopped, interrupted or still running) is not in the rate; `cases` and `done` say how
many there are of each. A grader's own pass rate and mean score are over the cases it graded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from playground import export, graders, replay, usage
from playground.store import Store

# The fixed columns of `case_rows`; a grader whose name is one of these gets " (grader)" after it.
CASE_COLUMNS = ("#", "input", "expected", "output", "status", "passed", "error", "tokens", "cost", "latency ms")
BASELINE_COLUMNS = ("baseline output", "baseline passed")


def _prices(prices: dict[str, usage.Price] | None) -> dict[str, usage.Price]:
    return usage.current_prices() if prices is None else prices


def grader_names(criteria: str | Sequence[Any] | None) -> list[str]:
    """The names of the graders in a testing_criteria list (its JSON text or the list), in order.
    Criteria that no longer parse (written by an older version) give the names they state."""
    try:
        data = json.loads(criteria) if isinstance(criteria, str) else criteria
    except ValueError:
        return []
    if isinstance(data, Mapping):
        data = data.get("testing_criteria")
    if not isinstance(data, list):
        return []
    try:
        return [g.name for g in graders.parse(data)]
    except graders.GraderError:
        return [str(c.get("name") or c.get("type")) for c in data if isinstance(c, Mapping)]


def _verdicts(row: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(v.get("name")): v for v in row.get("verdicts") or [] if isinstance(v, Mapping)}


def _names(criteria: str | None, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The run's graders in order, then any name only a verdict holds (never dropped from a table)."""
    names = dict.fromkeys(grader_names(criteria))
    for row in rows:
        names.update(dict.fromkeys(_verdicts(row)))
    return list(names)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summary(store: Store, replay_id: int, prices: dict[str, usage.Price] | None = None) -> dict[str, Any]:
    """One run in numbers (JSON-ready; the command line prints it).

    `cases`: the cases the run covers (its results, and for a run that did not complete, the set's
    cases it has not reached); `done`: those with a result; `passed`, `failed`, `ungraded` as the module
    docstring says; `pass_rate` = passed / done, an ungraded case counting as not passed (None before
    any result). `graders`: per grader, in the run's order: `graded`, `passed`, `pass_rate`,
    `mean_score` and `errors` (verdicts where it could not grade). Tokens count the results whose usage
    was reported; `usage_unknown` counts the others; `cost` is None when any result's cost is unknown
    or has no price (an undercount would mislead), as `replay.totals`. Latencies in ms over the results
    that report one. LookupError for a run that is not this owner's.
    """
    prices = _prices(prices)
    run = store.get_replay(replay_id)
    if run is None:
        raise LookupError(f"No run {replay_id}.")
    rows = store.replay_results(replay_id)
    cases = len(rows)
    if run["status"] != "completed":
        reached = {r["case_id"] for r in rows}
        cases += sum(c["id"] not in reached for c in store.test_cases(run["set_id"]))
    names = _names(run["graders"], rows)
    per_grader = []
    for name in names:
        verdicts = [v for r in rows if (v := _verdicts(r).get(name)) is not None]
        passed = sum(bool(v.get("passed")) for v in verdicts)
        scores = [float(v["score"]) for v in verdicts if isinstance(v.get("score"), (int, float))]
        per_grader.append(
            {
                "name": name,
                "graded": len(verdicts),
                "passed": passed,
                "pass_rate": _rate(passed, len(verdicts)),
                "mean_score": sum(scores) / len(scores) if scores else None,
                "errors": sum(bool(v.get("error")) for v in verdicts),
            }
        )
    costs = [replay.row_cost(r, prices) for r in rows]
    latencies = [float(r["latency_ms"]) for r in rows if r["latency_ms"] is not None]
    rolled = replay.tally(rows, prices)
    passed = sum(r["passed"] == 1 for r in rows)
    return {
        "run": replay_id,
        "set_id": run["set_id"],
        "assistant": run["assistant"],
        "version": run["version"],
        "model": run["model"],
        "status": run["status"],
        "interrupted": bool(run["interrupted"]),
        "created_at": run["created_at"],
        "cases": cases,
        "done": len(rows),
        "passed": passed,
        "failed": sum(r["passed"] == 0 for r in rows),
        "ungraded": sum(r["passed"] is None for r in rows),
        "pass_rate": _rate(passed, len(rows)),
        "graders": per_grader,
        "input_tokens": sum(r["input_tokens"] or 0 for r in rows),
        "output_tokens": sum(r["output_tokens"] or 0 for r in rows),
        "usage_unknown": rolled.unknown_runs,
        "cost": None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        "p50_latency_ms": replay.percentile(latencies, 50),
        "p90_latency_ms": replay.percentile(latencies, 90),
    }


def pivot(store: Store, set_id: int, prices: dict[str, usage.Price] | None = None) -> list[dict[str, Any]]:
    """The set's runs, oldest first, one row each: which version ran, when, how it went, and per grader
    "<name> pass rate" and "<name> mean score" (None where a run did not have that grader). Rates and
    scores are 0–1 floats, `date` unix seconds, costs USD floats (None: unknown or no price): a frame
    for `st.dataframe` and, by `version`, for a chart of pass rate across versions."""
    prices = _prices(prices)
    runs = sorted(store.list_replays(set_id), key=lambda r: r["id"])
    summaries = [summary(store, r["id"], prices) for r in runs]
    names = list(dict.fromkeys(g["name"] for s in summaries for g in s["graders"]))
    out = []
    for s in summaries:
        row: dict[str, Any] = {
            "assistant": s["assistant"],
            "version": s["version"],
            "run": s["run"],
            "date": s["created_at"],
            "status": "interrupted" if s["interrupted"] else s["status"],
            "cases": s["cases"],
            "done": s["done"],
            "pass rate": s["pass_rate"],
            "ungraded": s["ungraded"],
        }
        by_name = {g["name"]: g for g in s["graders"]}
        for name in names:
            g = by_name.get(name)
            row[f"{name} pass rate"] = g["pass_rate"] if g else None
            row[f"{name} mean score"] = g["mean_score"] if g else None
        row |= {
            "input tokens": s["input_tokens"],
            "output tokens": s["output_tokens"],
            "usage unknown": s["usage_unknown"],
            "cost": s["cost"],
            "p50 latency ms": s["p50_latency_ms"],
            "p90 latency ms": s["p90_latency_ms"],
        }
        out.append(row)
    return out


def verdict_text(verdict: Mapping[str, Any] | None) -> str | None:
    """A verdict in a cell: "pass 1.00 — reason", "fail 0.00 — reason" or "error — reason"."""
    if verdict is None:
        return None
    reason = str(verdict.get("reason") or "")
    if verdict.get("error"):
        head = "error"
    else:
        score = verdict.get("score")
        shown = f" {float(score):.2f}" if isinstance(score, (int, float)) else ""
        head = ("pass" if verdict.get("passed") else "fail") + shown
    return f"{head} — {reason}" if reason else head


def _passed(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _column(name: str) -> str:
    return f"{name} (grader)" if name in CASE_COLUMNS or name in BASELINE_COLUMNS else name


def case_rows(
    store: Store, replay_id: int, baseline_id: int | None = None, prices: dict[str, usage.Price] | None = None
) -> list[dict[str, Any]]:
    """One row per case with a result, in the set's order: "#", input, expected, output, status, one
    column per grader (`verdict_text`; None when the case was not graded), passed (True, False, or None
    when ungraded), error, tokens, cost (USD float, None: unknown or no price), latency ms; with a
    baseline run, its "baseline output" and "baseline passed" beside ("(not in baseline)" and None
    for a case it has no result for). A grader named like a fixed column gets " (grader)" after it."""
    prices = _prices(prices)
    run = store.get_replay(replay_id)
    if run is None:
        raise LookupError(f"No run {replay_id}.")
    rows = store.replay_results(replay_id)
    base = {r["case_id"]: r for r in store.replay_results(baseline_id)} if baseline_id is not None else None
    names = _names(run["graders"], rows)
    out = []
    for r in rows:
        verdicts = _verdicts(r)
        row: dict[str, Any] = {
            "#": r["position"] + 1,
            "input": r["input"],
            "expected": r["expected"],
            "output": r["output"],
            "status": r["status"],
        }
        for name in names:
            row[_column(name)] = verdict_text(verdicts.get(name))
        row |= {
            "passed": _passed(r["passed"]),
            "error": r["error"],
            "tokens": r["total_tokens"],
            "cost": replay.row_cost(r, prices),
            "latency ms": round(r["latency_ms"]) if r["latency_ms"] is not None else None,
        }
        if base is not None:
            b = base.get(r["case_id"])
            row["baseline output"] = b["output"] if b else "(not in baseline)"
            row["baseline passed"] = _passed(b["passed"]) if b else None
        out.append(row)
    return out


def changes(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[int]]:
    """From `case_rows` with a baseline: the cases (#) that passed there and not here ("regressed")
    and the other way round ("fixed"). An ungraded case on either side is neither."""
    regressed = [r["#"] for r in rows if r.get("baseline passed") is True and r["passed"] is False]
    fixed = [r["#"] for r in rows if r.get("baseline passed") is False and r["passed"] is True]
    return {"regressed": regressed, "fixed": fixed}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10f}".rstrip("0").rstrip(".") or "0"  # no 3.16e-05, no float noise
    return value


def results_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """`case_rows` (or `pivot`) as CSV through `export.csv_text`: cells a spreadsheet would run as
    formulas are neutralised; an empty cell is None (no price, not graded), never zero; floats are
    plain decimals and passed is true/false."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return export.csv_text(columns, ({k: _cell(v) for k, v in row.items()} for row in rows))


def results_jsonl(store: Store, replay_id: int, prices: dict[str, usage.Price] | None = None) -> str:
    """One JSON object a line per case with a result: the case (input, expected, variables, tags), the
    output, status, passed (true/false/null: ungraded), score, verdicts (each name, passed, score,
    reason, error), error, tokens, model, cost (USD, null: unknown or no price) and latency."""
    prices = _prices(prices)
    if store.get_replay(replay_id) is None:
        raise LookupError(f"No run {replay_id}.")
    out = io.StringIO()
    for r in store.replay_results(replay_id):
        record = {
            "run": replay_id,
            "case": r["position"] + 1,
            "case_id": r["case_id"],
            "input": r["input"],
            "expected": r["expected"],
            "variables": r["variables"],
            "tags": r["tags"],
            "output": r["output"],
            "status": r["status"],
            "passed": _passed(r["passed"]),
            "score": r["score"],
            "verdicts": r["verdicts"] or [],
            "error": r["error"],
            "input_tokens": r["input_tokens"],
            "output_tokens": r["output_tokens"],
            "total_tokens": r["total_tokens"],
            "model": r["model"],
            "cost": replay.row_cost(r, prices),
            "latency_ms": r["latency_ms"],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out.getvalue()
