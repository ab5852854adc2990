"""Cost and usage: prices per model from a data file, estimated cost per run, roll-ups for charts.

Prices live in data/prices.csv (or $PLAYGROUND_PRICES), USD per 1M tokens, so they are updated by
editing a file, not code. A model without a price shows "no price", never a cost of zero.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import math
import os
from collections import Counter
from collections.abc import Iterable
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


def current_prices() -> dict[str, Price]:
    """The price table in use, read once per version of the file (its path, mtime and size are the
    cache key): cheap enough to call for every message drawn. Shared: do not change what it returns."""
    path = prices_path()
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (-1, -1)
    return _prices_of(str(path), *stamp)


@functools.lru_cache(maxsize=8)
def _prices_of(path: str, mtime_ns: int, size: int) -> dict[str, Price]:
    return load_prices(Path(path))


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


def run_cost(model: str, input_tokens: int | None, output_tokens: int | None, prices: dict[str, Price]) -> str:
    """One run's estimated cost in words: "$0.0004", "no price" (a model missing from the list) or
    "unknown" (the server did not report the tokens: stopped or cut before it did, or it never does)."""
    if input_tokens is None or output_tokens is None:
        return "unknown"
    return money(cost(model, input_tokens, output_tokens, prices))


def duration(ms: float) -> str:
    """A latency for people: "850 ms", "1.2 s", "95 s"."""
    if ms < 1000:
        return f"{ms:,.0f} ms"
    return f"{ms / 1000:,.1f} s" if ms < 60_000 else f"{ms / 1000:,.0f} s"


def reply_usage(
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    latency_ms: float | None,
    prices: dict[str, Price],
) -> str:
    """The line under a reply: "312 → 95 tokens · $0.0004 · 1.2 s" (input → output, estimated cost
    or "no price", latency); "tokens unknown" when the server did not report them."""
    if input_tokens is None or output_tokens is None:
        parts = ["tokens unknown"]
    else:
        parts = [
            f"{input_tokens:,} → {output_tokens:,} tokens",
            money(cost(model, input_tokens, output_tokens, prices)),
        ]
    if latency_ms is not None:
        parts.append(duration(latency_ms))
    return " · ".join(parts)


# A roll-up's runs of one model: (model, finished runs, runs among them whose tokens are unknown,
# input tokens, output tokens), the tokens summed over the runs whose usage is known.
ModelUsage = tuple[str, int, int, int, int]


def _runs(n: int) -> str:
    return f"{n:,} run{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Tally:
    """Runs summed for a roll-up. Tokens and cost count only the runs whose usage the server reported;
    `unknown_runs` are the others (never counted as zero). `cost` is the priced runs' part;
    `unpriced_runs` ran on a model without a price (their tokens count, their cost cannot)."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    priced_runs: int = 0
    unpriced_runs: int = 0
    unknown_runs: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def known_runs(self) -> int:
        return self.runs - self.unknown_runs

    @property
    def tokens_or_none(self) -> int | None:
        """The tokens for a table cell: None (empty, not 0) when runs exist but none reported usage."""
        return self.tokens if self.known_runs or not self.runs else None

    def tokens_parts(self) -> tuple[str, str]:
        """("1,234", "+ 3 runs unknown"): the known tokens and what they leave out."""
        if self.runs and not self.known_runs:
            return "unknown", ""
        return f"{self.tokens:,}", f"+ {_runs(self.unknown_runs)} unknown" if self.unknown_runs else ""

    def cost_parts(self) -> tuple[str, str]:
        """("$0.12", "+ 2 runs with no price + 3 runs unknown"): the priced runs' cost and what it leaves
        out; "no price" or "unknown" when no run could be priced, "—" without runs. Never $0 for those."""
        if not self.runs:
            return "—", ""
        unpriced = f"{_runs(self.unpriced_runs)} with no price" if self.unpriced_runs else ""
        unknown = f"{_runs(self.unknown_runs)} unknown" if self.unknown_runs else ""
        if self.priced_runs:
            head = money(self.cost)
        elif self.unpriced_runs:
            head, unpriced = "no price", ""
        else:
            head, unknown = "unknown", ""
        rest = [p for p in (unpriced, unknown) if p]
        return head, "+ " + " + ".join(rest) if rest else ""

    @property
    def tokens_text(self) -> str:
        return " ".join(p for p in self.tokens_parts() if p)

    @property
    def cost_text(self) -> str:
        return " ".join(p for p in self.cost_parts() if p)


def tally(rows: Iterable[ModelUsage], prices: dict[str, Price]) -> Tally:
    """Per-model usage rows (from the log's roll-up queries) summed, with the cost of the priced ones."""
    runs = inp = out = priced = unpriced = unknown = 0
    total = 0.0
    for model, n, n_unknown, model_in, model_out in rows:
        runs += n
        unknown += n_unknown
        inp += model_in or 0
        out += model_out or 0
        known = n - n_unknown
        c = cost(model or "", model_in or 0, model_out or 0, prices)
        if c is None:
            unpriced += known
        else:
            priced += known
            total += c
    return Tally(runs, inp, out, total, priced, unpriced, unknown)


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
        return frame.assign(
            cost=pd.Series(dtype=float),
            priced=pd.Series(dtype=bool),
            known=pd.Series(dtype=bool),
            day=pd.Series(dtype=str),
            assistant_version=pd.Series(dtype=str),
        )
    # Whole columns, one price lookup per model: the page reruns this over every run in the log.
    found = {m: price_for(m or "", prices) for m in frame.model.unique()}
    per_in = frame.model.map({m: p.input_per_1m if p else math.nan for m, p in found.items()}).astype(float)
    per_out = frame.model.map({m: p.output_per_1m if p else math.nan for m, p in found.items()}).astype(float)
    # Usage the server did not report stays unknown (NaN), never 0: such a run has no tokens and no cost.
    frame["known"] = frame.input_tokens.notna() & frame.output_tokens.notna()
    frame["cost"] = (frame.input_tokens.astype(float) * per_in + frame.output_tokens.astype(float) * per_out) / 1e6
    frame["priced"] = per_in.notna()  # the model has a price (whether or not its tokens are known)
    frame["day"] = local_times(frame.created_at, tz).dt.strftime("%Y-%m-%d")  # an unknown zone: UTC days
    frame["assistant"] = assistant_labels(frame.assistant_id, frame.assistant)
    number = frame["version"].astype("Int64")
    frame["assistant_version"] = frame["assistant"] + (" v" + number.astype(str)).where(number.notna(), " (no version)")
    return frame


def assistant_labels(ids: pd.Series, names: pd.Series) -> pd.Series:
    """One label per assistant, so the roll-ups never merge two assistants that share a name
    (or have none yet): the name, with "#id" added where two assistants would read alike."""
    pairs = pd.DataFrame({"id": ids, "name": names}).drop_duplicates("id")
    label = {int(i): display_name(n, int(i)) for i, n in zip(pairs["id"], pairs["name"], strict=True)}
    alike = Counter(label.values())
    return ids.map({i: f"{text} #{i}" if alike[text] > 1 else text for i, text in label.items()})


ROLLUP_COLUMNS = [
    "runs", "input_tokens", "output_tokens", "unknown_runs", "cost", "priced_cost", "priced_runs", "unpriced_runs",
    "median_latency_ms",
]  # fmt: skip


def rollup(frame: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Per `by` (a column or several): runs, the tokens of the runs whose usage is known, how many are
    unknown (`unknown_runs`), cost (NaN unless every run was priced and known), the priced runs' cost
    (`priced_cost`, what a chart can draw) and count, how many known runs had no price, median latency."""
    keys = [by] if isinstance(by, str) else list(by)
    if frame.empty:
        return pd.DataFrame(columns=[*keys, *ROLLUP_COLUMNS])
    groups = [frame[k] for k in keys]
    known, priced = frame["known"].astype(bool), frame["priced"].astype(bool)

    def total(values: pd.Series) -> pd.Series:
        return values.groupby(groups, dropna=False).sum()

    out = frame.groupby(keys, dropna=False).agg(runs=("id", "count"), median_latency_ms=("latency_ms", "median"))
    out["input_tokens"] = total(frame["input_tokens"].astype(float).where(known, 0.0)).astype(int)
    out["output_tokens"] = total(frame["output_tokens"].astype(float).where(known, 0.0)).astype(int)
    out["unknown_runs"] = total((~known).astype(int))
    out["priced_cost"] = total(frame["cost"].astype(float).where(known & priced, 0.0))
    out["priced_runs"] = total((known & priced).astype(int))
    out["unpriced_runs"] = total((known & ~priced).astype(int))
    out["cost"] = out["priced_cost"].where((out["unpriced_runs"] == 0) & (out["unknown_runs"] == 0))
    return out.reset_index()[[*keys, *ROLLUP_COLUMNS]]


def rollup_tally(row: Any) -> Tally:
    """One row of `rollup` as a Tally (for its words: "$0.12 + 2 runs with no price")."""
    return Tally(
        int(row["runs"]),
        int(row["input_tokens"]),
        int(row["output_tokens"]),
        float(row["priced_cost"]),
        int(row["priced_runs"]),
        int(row["unpriced_runs"]),
        int(row["unknown_runs"]),
    )


def frame_tally(frame: pd.DataFrame) -> Tally:
    """Every run of a `runs_frame` as one Tally (the page's totals)."""
    if frame.empty:
        return Tally()
    return rollup_tally(rollup(frame.assign(all=""), "all").iloc[0])


PRICED, PARTLY_PRICED = "all runs priced", "priced part only"  # the legend: short, the caption says why


def not_costed(rolled: pd.DataFrame) -> pd.Series:
    """Groups whose cost is only part of their runs' (some had no price, or unknown usage)."""
    return (rolled["unpriced_runs"] > 0) | (rolled["unknown_runs"] > 0)


def cost_chart_frame(rolled: pd.DataFrame, by: str) -> pd.DataFrame:
    """The priced cost per `by`, in one of two columns: PRICED, or PARTLY_PRICED for groups holding
    runs without a cost estimate (no price, or usage unknown): their bar shows the priced part in its
    own colour (a gap would read as "no cost")."""
    partial = not_costed(rolled)
    cost = rolled["priced_cost"].astype(float)
    return pd.DataFrame({by: rolled[by], PRICED: cost.where(~partial, 0.0), PARTLY_PRICED: cost.where(partial, 0.0)})


def by_day_and_version(frame: pd.DataFrame) -> pd.DataFrame:
    """Usage per day and version ("Bot v3"), long form for a stacked bar chart: `tokens` of the runs
    whose usage is known, `priced_cost`, and the counts of runs those leave out (see `rollup`)."""
    rolled = rollup(frame, ["day", "assistant_version"]).rename(columns={"assistant_version": "version"})
    return rolled.assign(tokens=rolled["input_tokens"] + rolled["output_tokens"])


UNKNOWN_HELP = (
    "Runs whose tokens the server never reported (stopped or cut before it did, or a server that does "
    "not report usage): left out of tokens and cost, never counted as 0."
)


def rollup_table(rolled: pd.DataFrame) -> pd.DataFrame:
    """A roll-up as a table for people: the cost in words ("$0.12 + 2 runs with no price", "no price",
    "unknown"), tokens empty (not 0) for a group none of whose runs reported usage."""
    out = rolled.drop(columns=["priced_cost", "priced_runs"])
    if rolled.empty:
        return out
    none_known = rolled["runs"] == rolled["unknown_runs"]
    for column in ("input_tokens", "output_tokens"):
        out[column] = rolled[column].astype("Int64").mask(none_known)
    out["cost"] = [rollup_tally(row).cost_text for _, row in rolled.iterrows()]
    return out
