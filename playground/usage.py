"""Cost and usage: prices per model from a data file, estimated cost per run, roll-ups for charts.

Prices live in data/prices.csv (or $PLAYGROUND_PRICES), USD per 1M tokens, so they are updated by
editing a file, not code. A model without a price shows "no price", never a cost of zero.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from playground.assistant import display_name

DEFAULT_PRICES = Path(__file__).resolve().parents[1] / "data" / "prices.csv"


@dataclass(frozen=True)
class Price:
    model: str
    input_per_1m: float
    output_per_1m: float


def prices_path() -> Path:
    return Path(os.environ.get("PLAYGROUND_PRICES") or DEFAULT_PRICES)


def load_prices(path: Path | None = None) -> dict[str, Price]:
    """The price table; rows that do not parse are skipped (a typo must not break the page)."""
    path = path or prices_path()
    table: dict[str, Price] = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    model = (row.get("model") or "").strip()
                    if model:
                        table[model] = Price(model, float(row["input_per_1m"]), float(row["output_per_1m"]))
                except (KeyError, TypeError, ValueError):
                    continue
    except OSError:
        return {}
    return table


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """Exact model, else the longest priced prefix (gpt-4.1-mini-2025-04-14 → gpt-4.1-mini)."""
    if model in prices:
        return prices[model]
    matches = [p for name, p in prices.items() if model.startswith(name + "-")]
    return max(matches, key=lambda p: len(p.model)) if matches else None


def cost(model: str, input_tokens: int | None, output_tokens: int | None, prices: dict[str, Price]) -> float | None:
    price = price_for(model or "", prices)
    if price is None:
        return None
    return ((input_tokens or 0) * price.input_per_1m + (output_tokens or 0) * price.output_per_1m) / 1_000_000


def thread_cost(tokens_by_model: list[tuple[str, int, int]], prices: dict[str, Price]) -> float | None:
    """A thread's cost over all its models; None if any model it used has no price."""
    total = 0.0
    for model, inp, out in tokens_by_model:
        c = cost(model, inp, out, prices)
        if c is None and (inp or out):
            return None
        total += c or 0.0
    return total


def money(value: float | None) -> str:
    """USD for people: cents from $1, else at least 4 decimals and two significant digits ($0.0042,
    $0.000016), so a small but real cost never reads as $0.0000."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no price"
    if value == 0:
        return "$0"
    if value >= 0.995:  # rounds to a dollar or more
        return f"${value:,.2f}"
    if value < 1e-8:
        return "<$0.00000001"
    decimals = max(4, 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    if decimals > 4:  # two significant digits, without a trailing zero: $0.00008, not $0.000080
        text = text.rstrip("0")
    return "$" + text


def zone(tz: str | None) -> dt.tzinfo:
    """The browser's time zone (st.context.timezone), UTC when unknown or not a zone name."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC


def local_times(timestamps: Any, tz: str | None) -> pd.Series:
    """Unix times as time-zone-aware datetimes in the viewer's zone: a table column that sorts by time."""
    series = pd.Series(timestamps, dtype="float64")
    return pd.to_datetime(series, unit="s", utc=True).dt.tz_convert(zone(tz))


def day_bounds(first: dt.date, last: dt.date, tz: str | None) -> tuple[float, float]:
    """[start of `first`, end of `last`) in the viewer's zone, as Unix times (a date filter's range)."""
    where = zone(tz)
    since = dt.datetime.combine(first, dt.time.min, tzinfo=where).timestamp()
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=where).timestamp()
    return since, until


def runs_frame(rows: list[dict[str, Any]], prices: dict[str, Price], tz: str | None = None) -> pd.DataFrame:
    """One row per run with its cost and day, ready to group by assistant, version or day."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "id", "created_at", "status", "model", "input_tokens", "output_tokens", "total_tokens",
            "ttft_ms", "latency_ms", "assistant_id", "assistant", "version",
        ],
    )  # fmt: skip
    if frame.empty:
        return frame.assign(cost=pd.Series(dtype=float), priced=pd.Series(dtype=bool), day=pd.Series(dtype=str))
    # Whole columns, one price lookup per model: the page reruns this over every run in the log.
    found = {m: price_for(m or "", prices) for m in frame.model.unique()}
    per_in = frame.model.map({m: p.input_per_1m if p else math.nan for m, p in found.items()}).astype(float)
    per_out = frame.model.map({m: p.output_per_1m if p else math.nan for m, p in found.items()}).astype(float)
    tokens_in = frame.input_tokens.astype(float).fillna(0.0)
    tokens_out = frame.output_tokens.astype(float).fillna(0.0)
    frame["cost"] = (tokens_in * per_in + tokens_out * per_out) / 1_000_000
    frame["priced"] = frame["cost"].notna()
    frame["day"] = local_times(frame.created_at, tz).dt.strftime("%Y-%m-%d")  # an unknown zone: UTC days
    frame["assistant"] = assistant_labels(frame.assistant_id, frame.assistant)
    frame["assistant_version"] = frame["assistant"] + " v" + frame["version"].astype("Int64").astype(str)
    return frame


def assistant_labels(ids: pd.Series, names: pd.Series) -> pd.Series:
    """One label per assistant, so the roll-ups never merge two assistants that share a name
    (or have none yet): the name, with "#id" added where two assistants would read alike."""
    pairs = pd.DataFrame({"id": ids, "name": names}).drop_duplicates("id")
    label = {int(i): display_name(n, int(i)) for i, n in zip(pairs["id"], pairs["name"], strict=True)}
    alike = Counter(label.values())
    return ids.map({i: f"{text} #{i}" if alike[text] > 1 else text for i, text in label.items()})


ROLLUP_COLUMNS = ["runs", "input_tokens", "output_tokens", "cost", "priced_cost", "unpriced_runs", "median_latency_ms"]


def rollup(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per `by`: runs, tokens, cost (NaN where any run had no price), the priced runs' cost
    (`priced_cost`, what a chart can draw), how many runs had no price, and median latency."""
    if frame.empty:
        return pd.DataFrame(columns=[by, *ROLLUP_COLUMNS])
    grouped = frame.groupby(by, dropna=False)
    out = grouped.agg(
        runs=("id", "count"),
        input_tokens=("input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
        median_latency_ms=("latency_ms", "median"),
    )
    out["priced_cost"] = frame["cost"].where(frame["priced"], 0.0).astype(float).groupby(frame[by], dropna=False).sum()
    out["unpriced_runs"] = (~frame["priced"]).astype(int).groupby(frame[by], dropna=False).sum()
    out["cost"] = out["priced_cost"].where(out["unpriced_runs"] == 0)
    return out.reset_index()[[by, *ROLLUP_COLUMNS]]


PRICED, PARTLY_PRICED = "all runs priced", "some runs have no price"


def cost_chart_frame(rolled: pd.DataFrame, by: str) -> pd.DataFrame:
    """The priced cost per `by`, in one of two columns: PRICED, or PARTLY_PRICED for groups holding
    unpriced runs (their bar shows the priced part in its own colour; a gap would read as "no cost")."""
    partial = rolled["unpriced_runs"] > 0
    cost = rolled["priced_cost"].astype(float)
    return pd.DataFrame({by: rolled[by], PRICED: cost.where(~partial, 0.0), PARTLY_PRICED: cost.where(partial, 0.0)})
