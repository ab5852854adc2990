"""Usage: tokens, estimated cost and latency per run, rolled up per assistant, version and day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_pages._common import current, guarded_write
from playground import limits, markup, usage

conn = current()
store = conn.store

st.title("Usage")


def _reset_count(day: str) -> None:
    who = st.session_state.usage_who
    lifted = guarded_write(store.reset_spending, day, None if who == "everyone" else who)
    if lifted is not None:
        st.session_state.usage_reset_note = f"Lifted {lifted:,} requests from today's count: it starts from zero again."


if store.admin:  # what each person spent today on this deployment's key, and lifting a count
    with st.expander("Today's spending on this deployment (admin)", icon=":material/savings:"):
        day = limits.today()
        if note := st.session_state.pop("usage_reset_note", None):
            st.success(note, icon=":material/restart_alt:")
        people = store.spending_by_person(day)
        if not people:
            st.caption("Nothing spent today yet.")
        else:
            st.dataframe(
                pd.DataFrame(people),
                hide_index=True,
                key="usage_spending",
                column_config={"cost": st.column_config.NumberColumn("estimated cost", format="$%.4f")},
            )
            st.selectbox("Reset today's count of", ["everyone", *(p["person"] for p in people)], key="usage_who")
            st.button(
                "Reset the count", key="usage_reset", icon=":material/restart_alt:", on_click=_reset_count, args=(day,)
            )

period = st.segmented_control("Period", ["7 days", "30 days", "All"], default="30 days", key="usage_period")
days = {"7 days": 7, "30 days": 30}.get(period or "All")
since = (dt.datetime.now() - dt.timedelta(days=days)).timestamp() if days else None
prices = usage.current_prices()
runs = usage.runs_frame(store.usage(since), prices, st.context.timezone)
if runs.empty:
    st.info("No turns in this period yet.")
    st.stop()

unpriced = sorted(set(runs.loc[~runs.priced, "model"]))
total = usage.frame_tally(runs)
cols = st.columns([1, 1.3, 1.9, 1])  # room for what the totals leave out
cols[0].metric("Turns", f"{len(runs):,}")
# What a total leaves out is said under it ("+ 3 runs unknown"), never added in as 0 or $0.
tokens, tokens_left_out = total.tokens_parts()
cols[1].metric(
    "Tokens", tokens, tokens_left_out or None, delta_color="orange", delta_arrow="off", help=usage.UNKNOWN_HELP
)
cost, cost_left_out = total.cost_parts()
cols[2].metric(
    "Estimated cost",
    cost,
    cost_left_out or None,
    delta_color="orange",
    delta_arrow="off",
    help="Of the runs with known usage on a priced model; the others are counted apart, never as $0.",
)
cols[3].metric("Median latency", f"{runs.latency_ms.median():,.0f} ms")
if unpriced:
    st.caption(
        f":material/warning: No price for {', '.join(markup.literal(m) for m in unpriced)}: "
        "their runs show “no price”, not $0."
    )
if total.unknown_runs:
    st.caption(
        f":material/help: Usage unknown for {total.unknown_runs:,} run{'s' if total.unknown_runs != 1 else ''}: "
        "the server did not report it (stopped or cut before it did, or a server that never does). "
        "They are in no token or cost total."
    )


def flagged(rolled, by: str) -> str:
    """The groups whose cost is only the priced part, in words (empty when every run had a cost estimate)."""
    partial = rolled.loc[usage.not_costed(rolled), by].astype(str).tolist()
    return ", ".join(markup.literal(p) for p in partial)


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


LEFT_OUT = "some runs had no price or unknown usage: the bar is the priced part only"


ROLLUP_COLUMNS = {
    "input_tokens": st.column_config.NumberColumn("input tokens"),
    "output_tokens": st.column_config.NumberColumn("output tokens"),
    "unknown_runs": st.column_config.NumberColumn("usage unknown", help=usage.UNKNOWN_HELP),
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
    st.caption(f":material/warning: On {partial} {LEFT_OUT}.")

st.subheader("Per assistant")
by_assistant = usage.rollup(runs, "assistant")
st.dataframe(
    usage.rollup_table(by_assistant),
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
    st.caption(f":material/warning: {partial}: {LEFT_OUT}.")
st.bar_chart(
    by_version.set_index("assistant_version")[["median_latency_ms"]],
    x_label="median latency (ms)",
    y_label="",
    horizontal=True,
)
st.dataframe(
    usage.rollup_table(by_version),
    hide_index=True,
    width="stretch",
    key="usage_versions",
    column_config=ROLLUP_COLUMNS,
)

st.subheader("Per version, by day")
measure = st.segmented_control(
    "Measure", ["Tokens", "Estimated cost"], default="Tokens", key="usage_daily_measure", label_visibility="collapsed"
)
daily = usage.by_day_and_version(runs)
cost_by_day = measure == "Estimated cost"
st.bar_chart(  # stacked bars: a day with one run is still a visible bar
    daily,
    x="day",
    y="priced_cost" if cost_by_day else "tokens",
    color="version",
    x_label="",
    y_label="estimated cost (USD)" if cost_by_day else "tokens",
)
left_out = daily[usage.not_costed(daily)] if cost_by_day else daily[daily.unknown_runs > 0]
if not left_out.empty:
    where = ", ".join(f"{markup.literal(r.version)} on {r.day}" for r in left_out.head(8).itertuples())
    where += f" and {len(left_out) - 8:,} more" if len(left_out) > 8 else ""
    what = "no price or unknown usage" if cost_by_day else "unknown usage"
    st.caption(f":material/warning: Runs with {what}, not in these bars: {where}.")

with st.expander("Prices in use"):
    st.dataframe(
        pd.DataFrame([(p.model, p.input_per_1m, p.output_per_1m) for p in prices.values()],
                     columns=["model", "input $/1M", "output $/1M"]),
        hide_index=True,
    )  # fmt: skip
    st.caption(f"Edit `{usage.prices_path()}` (or point `PLAYGROUND_PRICES` at your own CSV) to change them.")
