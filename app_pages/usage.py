"""Usage: tokens, estimated cost and latency per run, rolled up per assistant, version and day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages._common import current
from playground import markup, usage

conn = current()
store = conn.store

st.title("Usage")
period = st.segmented_control("Period", ["7 days", "30 days", "All"], default="30 days", key="usage_period")
days = {"7 days": 7, "30 days": 30}.get(period or "All")
since = (dt.datetime.now() - dt.timedelta(days=days)).timestamp() if days else None
prices = usage.load_prices()
runs = usage.runs_frame(store.usage(since), prices, st.context.timezone)
if runs.empty:
    st.info("No turns in this period yet.")
    st.stop()

unpriced = sorted(set(runs.loc[~runs.priced, "model"]))
total_cost = runs.loc[runs.priced, "cost"].sum()
cols = st.columns(4)
cols[0].metric("Turns", f"{len(runs):,}")
cols[1].metric("Tokens", f"{int(runs.input_tokens.fillna(0).sum() + runs.output_tokens.fillna(0).sum()):,}")
cols[2].metric("Estimated cost", usage.money(total_cost), help="Runs on models without a price are left out.")
cols[3].metric("Median latency", f"{runs.latency_ms.median():,.0f} ms")
if unpriced:
    st.caption(
        f":material/warning: No price for {', '.join(markup.literal(m) for m in unpriced)}: "
        "their runs show “no price”, not $0."
    )


def flagged(rolled, by: str) -> str:
    """The groups whose cost is only the priced part, in words (empty when every run had a price)."""
    partial = rolled.loc[rolled.unpriced_runs > 0, by].astype(str).tolist()
    return ", ".join(partial)


def cost_bars(rolled, by: str, horizontal: bool = False) -> None:
    axis = "estimated cost (USD)"
    st.bar_chart(
        usage.cost_chart_frame(rolled, by),
        x=by,
        y=[usage.PRICED, usage.PARTLY_PRICED],
        color=["#1c83e1", "#ff8700"],  # fixed, so orange always means "only the priced part"
        horizontal=horizontal,
        x_label=axis if horizontal else "",
        y_label="" if horizontal else axis,
    )


ROLLUP_COLUMNS = {
    "input_tokens": st.column_config.NumberColumn("input tokens"),
    "output_tokens": st.column_config.NumberColumn("output tokens"),
    "unpriced_runs": st.column_config.NumberColumn("runs without a price"),
    "median_latency_ms": st.column_config.NumberColumn("median latency (ms)", format="%.0f"),
}


by_day = usage.rollup(runs, "day")
st.subheader("Per day")
left, right = st.columns(2)
TOKENS = {"input_tokens": "input tokens", "output_tokens": "output tokens"}
left.bar_chart(by_day.set_index("day")[list(TOKENS)].rename(columns=TOKENS), y_label="tokens")
with right:
    cost_bars(by_day, "day")  # bars: one day is still visible, and a day with unpriced runs shows its priced part
if partial := flagged(by_day, "day"):
    st.caption(f":material/warning: On {partial} some runs had no price: the bar is the priced part only.")

st.subheader("Per assistant")
by_assistant = usage.rollup(runs, "assistant")
st.dataframe(
    by_assistant.assign(cost=[usage.money(c) for c in by_assistant.cost]).drop(columns=["priced_cost"]),
    hide_index=True,
    width="stretch",
    key="usage_assistants",
    column_config=ROLLUP_COLUMNS,
)

st.subheader("Per version")
by_version = usage.rollup(runs, "assistant_version")
left, right = st.columns(2)
left.bar_chart(
    by_version.set_index("assistant_version")[list(TOKENS)].rename(columns=TOKENS),
    horizontal=True,
    x_label="tokens",
    y_label="",
)
with right:
    cost_bars(by_version, "assistant_version", horizontal=True)
if partial := flagged(by_version, "assistant_version"):
    st.caption(f":material/warning: {partial}: some runs had no price, so the bar is the priced part only.")
st.bar_chart(
    by_version.set_index("assistant_version")[["median_latency_ms"]],
    x_label="median latency (ms)",
    y_label="",
    horizontal=True,
)
shown = by_version.assign(cost=[usage.money(c) for c in by_version.cost]).drop(columns=["priced_cost"])
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    key="usage_versions",
    column_config=ROLLUP_COLUMNS,
)

with st.expander("Prices in use"):
    st.dataframe(
        pd.DataFrame([(p.model, p.input_per_1m, p.output_per_1m) for p in prices.values()],
                     columns=["model", "input $/1M", "output $/1M"]),
        hide_index=True,
    )  # fmt: skip
    st.caption(f"Edit `{usage.prices_path()}` (or point `PLAYGROUND_PRICES` at your own CSV) to change them.")
