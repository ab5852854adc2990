"""Test sets and replay comparisons: build a set of inputs, and read a run's results beside a baseline.

A test set is a named list of inputs, saved from the user turns of one or more conversations or
written by hand. `separate` sets run each input on a thread of its own (independent cases);
`conversation` sets send each source conversation's inputs in order on one thread, re-running the
real conversations. Running a set is `playground.evaluation`'s (`evaluation.start`); every run (a
"replay" in the log) and each case's result are kept, with tokens and model. Here each result and
each run gets an estimated cost and totals, and a run is compared with a baseline row by row.
"""

from __future__ import annotations

import difflib
import math
import statistics
from collections.abc import Iterable
from typing import Any

from playground import usage
from playground.store import Store

MODES = ("separate", "conversation")


def parse_inputs(text: str) -> list[str]:
    """Hand-written inputs: separated by a line holding only `---` (so an input may span lines)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip() == "---":
            blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    blocks.append("\n".join(current))
    return [b.strip() for b in blocks if b.strip()]


def check(name: str, inputs: list[str]) -> list[str]:
    """What stops these from being saved as a test set; empty when they can be."""
    problems = []
    if not name.strip():
        problems.append("Give the test set a name.")
    if not inputs:
        problems.append("Add at least one input.")
    return problems


def from_thread(store: Store, thread_id: int) -> list[str]:
    """A conversation's user turns, in order."""
    return [m.content for m in store.list_messages(thread_id) if m.role == "user" and m.content.strip()]


def from_threads(store: Store, thread_ids: list[int]) -> tuple[list[str], list[int]]:
    """The user turns of several conversations, each conversation's in order, and the thread each came from."""
    inputs: list[str] = []
    sources: list[int] = []
    for thread_id in thread_ids:
        turns = from_thread(store, thread_id)
        inputs += turns
        sources += [thread_id] * len(turns)
    return inputs, sources


def save(
    store: Store,
    name: str,
    inputs: list[str],
    mode: str = "separate",
    source_thread_id: int | None = None,
    sources: list[int] | None = None,
) -> int:
    """Keep `inputs` as a test set. `sources` (one thread id per input) lets a set hold several
    conversations: in `conversation` mode each one replays in order on a thread of its own."""
    problems = check(name, inputs)
    if problems:
        raise ValueError(" ".join(problems))
    if mode not in MODES:
        raise ValueError(f"Mode must be one of {', '.join(MODES)}.")
    if sources is not None and len(set(sources)) == 1:
        source_thread_id = sources[0]
    return store.create_test_set(name.strip(), inputs, mode, source_thread_id, sources=sources)


def row_cost(row: dict[str, Any], prices: dict[str, usage.Price]) -> float | None:
    """A result's estimated cost; None when its model has no price or its tokens were not reported."""
    if row.get("input_tokens") is None and row.get("output_tokens") is None:
        return 0.0 if _refused(row) else None
    return usage.cost(row.get("model") or "", row.get("input_tokens"), row.get("output_tokens"), prices)


def _refused(row: dict[str, Any]) -> bool:
    """Refused before the model wrote anything (a 4xx, a failed request): nothing was used, so no
    usage is zero, not unknown. A cut or stopped reply without usage is unknown."""
    return row.get("status") == "failed" and not row.get("output") and not row.get("total_tokens")


def tally(rows: list[dict[str, Any]], prices: dict[str, usage.Price]) -> usage.Tally:
    """The results as a roll-up: usage a server never reported is counted apart, never as 0."""
    per_model: dict[str, list[int]] = {}
    for r in rows:
        if _refused(r):
            continue
        n = per_model.setdefault(r.get("model") or "", [0, 0, 0, 0])
        n[0] += 1
        if r["input_tokens"] is None and r["output_tokens"] is None:
            n[1] += 1
        n[2] += r["input_tokens"] or 0
        n[3] += r["output_tokens"] or 0
    return usage.tally([(model, n[0], n[1], n[2], n[3]) for model, n in per_model.items()], prices)


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0–100) of `values`, interpolated between the two nearest ranks (as
    numpy's default and a spreadsheet's PERCENTILE.INC); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(value: float | None) -> int | None:
    return round(value) if value is not None else None


def compare_rows(
    store: Store, replay_id: int, baseline_id: int | None = None, prices: dict[str, usage.Price] | None = None
) -> list[dict[str, Any]]:
    """One row per input: this replay's output, tokens, cost, latency and status, and with a baseline
    the same for the baseline, beside it, with their similarity and a diff. Costs are floats (None:
    no price)."""
    prices = usage.load_prices() if prices is None else prices
    rows = store.replay_results(replay_id)
    base = {r["case_id"]: r for r in store.replay_results(baseline_id)} if baseline_id else {}
    out = []
    for r in rows:
        b = base.get(r["case_id"])
        row = {
            "#": r["position"] + 1,
            "input": r["input"],
            "output": r["output"],
            "status": r["status"],
            "input tokens": r["input_tokens"],
            "output tokens": r["output_tokens"],
            "tokens": r["total_tokens"],
            "cost": row_cost(r, prices),
            "latency ms": _ms(r["latency_ms"]),
            "error": r["error"],
        }
        if baseline_id:
            before = b["output"] if b else ""
            row["baseline output"] = before if b else "(not in baseline)"
            row["baseline status"] = b["status"] if b else None
            row["baseline tokens"] = b["total_tokens"] if b else None
            row["baseline cost"] = row_cost(b, prices) if b else None
            row["baseline latency ms"] = _ms(b["latency_ms"]) if b else None
            row["similarity"] = round(difflib.SequenceMatcher(None, before, r["output"]).ratio(), 2)
            row["diff"] = "\n".join(
                difflib.unified_diff(before.splitlines(), r["output"].splitlines(), "baseline", "this", lineterm="")
            )
        out.append(row)
    return out


def totals(store: Store, replay_id: int, prices: dict[str, usage.Price] | None = None) -> dict[str, Any]:
    """A replay in numbers: inputs run, completed, failures, tokens, estimated cost (None if any
    result has no price: an undercount would mislead), and median latency."""
    prices = usage.load_prices() if prices is None else prices
    rows = store.replay_results(replay_id)
    costs = [row_cost(r, prices) for r in rows]
    latencies = sorted(r["latency_ms"] for r in rows if r["latency_ms"] is not None)
    rolled = tally(rows, prices)
    return {
        "inputs": len(rows),
        "completed": sum(r["status"] == "completed" for r in rows),
        "failures": sum(r["status"] != "completed" for r in rows),
        "input tokens": sum(r["input_tokens"] or 0 for r in rows),
        "output tokens": sum(r["output_tokens"] or 0 for r in rows),
        "total tokens": sum(r["total_tokens"] or 0 for r in rows),
        "usage unknown": rolled.unknown_runs,
        "estimated cost": None if any(c is None for c in costs) else sum(costs),
        "median latency ms": statistics.median(latencies) if latencies else None,
        "tally": rolled,
    }


def side_by_side(this: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, str]]:
    """Two replays' totals as rows (measure, this, baseline, change), formatted for reading."""

    def show(key: str, totals: dict[str, Any]) -> str:
        value, tally = totals[key], totals["tally"]
        if key == "total tokens" and tally.unknown_runs:
            return tally.tokens_text  # "1,234 + 2 runs unknown": never a sum that counts them as 0
        if key == "estimated cost" and (tally.unknown_runs or tally.unpriced_runs):
            return tally.cost_text
        if value is None:
            return "no price" if key == "estimated cost" else "—"
        if key == "estimated cost":
            return usage.money(value)
        if key == "median latency ms":
            return f"{value:,.0f} ms"
        return f"{value:,}"

    def change(key: str, a: Any, b: Any) -> str:
        if a is None or b is None or key == "inputs":
            return ""
        if key in ("total tokens", "estimated cost", "input tokens", "output tokens") and (
            this["usage unknown"] or baseline["usage unknown"]
        ):
            return ""  # a difference with unknown parts on either side would be made up
        delta = a - b
        if key == "estimated cost":
            text = usage.money(abs(delta))
        elif key == "median latency ms":
            text = f"{abs(delta):,.0f} ms"
        else:
            text = f"{abs(delta):,}"
        if delta == 0:
            return "same"
        sign = "+" if delta > 0 else "−"
        pct = f" ({sign}{abs(delta) / b:.0%})" if b else ""
        return sign + text + pct

    return [
        {"measure": key.replace(" ms", ""), "this replay": show(key, this), "baseline": show(key, baseline),
         "change": change(key, this[key], baseline[key])}
        for key in this if key != "tally"
    ]  # fmt: skip
