"""Test sets: save inputs (from a conversation or by hand), replay them on any version, compare with a baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._common import assistant_names, current, setup_panel
from playground import editor, export, markup, replay, usage

conn = current()
store = conn.store
ss = st.session_state
tz = st.context.timezone

st.title("Test sets")
st.caption("Run the same inputs on any version and see, row by row, what changed against an earlier run.")

with st.expander("New test set", icon=":material/add:", expanded=not store.list_test_sets()):
    name = st.text_input("Name", key="ts_name", placeholder="Refund questions")
    source = st.radio("Inputs", ["From conversations", "Written by hand"], horizontal=True, key="ts_source")
    if source == "From conversations":
        threads = store.conversations(limit=200)
        titles = {t["id"]: f"#{t['id']} · {t['title'] or '(untitled)'} · {t['assistant']}" for t in threads}
        thread_ids = st.multiselect(
            "Conversations",
            list(titles),
            default=list(titles)[:1],
            format_func=titles.get,
            key="ts_threads",
            help="The newest 200. To pick from a search or filters, use “Save as test set” on the Conversations page.",
        )
        inputs, sources = replay.from_threads(store, thread_ids)
        mode = (
            "conversation"
            if st.toggle("Replay each conversation in order, on a thread of its own", True, key="ts_mode")
            else "separate"
        )
        st.caption(
            f"{len(inputs)} user turn{'s' if len(inputs) != 1 else ''} from {len(thread_ids)} "
            f"conversation{'s' if len(thread_ids) != 1 else ''}."
        )
    else:
        text = st.text_area("Inputs, separated by a line with only ---", key="ts_inputs", height=160)
        inputs, sources, mode = replay.parse_inputs(text), None, "separate"
        st.caption(f"{len(inputs)} input{'s' if len(inputs) != 1 else ''}; each runs on a thread of its own.")
    if st.button("Save test set", key="ts_save", icon=":material/save:"):
        problems = replay.check(name, inputs)
        for p in problems:
            st.error(markup.literal(p), icon=":material/error:")
        if not problems:
            ss.ts_pick = replay.save(store, name, inputs, mode=mode, sources=sources)
            st.toast(f"Saved “{markup.literal(name.strip())}”", icon=":material/save:")

sets = store.list_test_sets()
if not sets:
    st.info("No test sets yet.")
    st.stop()
labels = {
    s["id"]: f"{s['name']} · {s['cases']} inputs"
    + (f" from {s['sources']} conversations" if s["sources"] > 1 else "")
    + f" · {s['mode']}"
    for s in sets
}
set_id = st.selectbox("Test set", list(labels), format_func=labels.get, key="ts_pick")
with st.expander("Inputs"):
    st.dataframe(pd.DataFrame(store.test_cases(set_id))[["position", "input"]], hide_index=True, width="stretch")

assistants = [a for a in store.list_assistants(include_archived=True) if a["versions"]]
if not assistants:
    st.info("Save a version of an assistant to replay this set on it.")
    st.stop()
names = assistant_names(assistants)
left, right, go = st.columns([2, 2, 1], vertical_alignment="bottom")
assistant_id = left.selectbox("Assistant", list(names), format_func=names.get, key="ts_assistant")
versions = store.list_versions(assistant_id)
picked = right.selectbox("Version", versions, format_func=lambda v: f"v{v.number} · {v.config.model}", key="ts_version")
if conn.key is None:
    setup_panel()
elif go.button("Replay", type="primary", key="ts_run", icon=":material/play_arrow:", width="stretch"):
    cases = store.test_cases(set_id)
    bar = st.progress(0.0, text=f"Replaying on v{picked.number}…")
    for n, result in enumerate(replay.run(store, conn.backend, set_id, picked, secrets=conn.secrets), start=1):
        bar.progress(n / len(cases), text=f"{n} of {len(cases)} · last: {result['status']}")
        ss.ts_show = result["replay_id"]  # show the new replay (its widget is drawn below)
    st.rerun()

runs = store.list_replays(set_id)
if not runs:
    st.stop()
st.subheader("Results")
run_labels = {
    r["id"]: f"#{r['id']} · {r['assistant']} v{r['version']} · {r['model']} · {editor.clock(r['created_at'], tz)}"
    + ("" if r["status"] == "completed" else f" · {r['status']}")
    for r in runs
}
ids = list(run_labels)
if ss.get("ts_show") not in run_labels:  # another set was picked: start from its newest replay
    ss.ts_show = ids[0]
left, right = st.columns(2)
shown = left.selectbox("Replay", ids, format_func=run_labels.get, key="ts_show")
others = [i for i in ids if i != shown]
baseline = right.selectbox(
    "Baseline", [None, *others], format_func=lambda i: "none" if i is None else run_labels[i], key="ts_baseline"
)
prices = usage.load_prices()
this = replay.totals(store, shown, prices)
if baseline:
    shown_label, baseline_label = markup.literal(run_labels[shown]), markup.literal(run_labels[baseline])
    st.markdown(f"**{shown_label}** against the baseline **{baseline_label}**")
    st.dataframe(
        pd.DataFrame(replay.side_by_side(this, replay.totals(store, baseline, prices))),
        hide_index=True,
        width="stretch",
        key="ts_summary",
    )
else:
    cols = st.columns(4)
    cols[0].metric("Failures", f"{this['failures']} of {this['inputs']}")
    # Results without reported usage are counted apart, never as 0 (usage.Tally).
    tokens, left_out = this["tally"].tokens_parts()
    cols[1].metric("Tokens", tokens, left_out or None, delta_color="orange", delta_arrow="off")
    cost, left_out = this["tally"].cost_parts()
    cols[2].metric("Estimated cost", cost, left_out or None, delta_color="orange", delta_arrow="off")
    latency = this["median latency ms"]
    cols[3].metric("Median latency", "—" if latency is None else f"{latency:,.0f} ms")
    st.caption("Pick a baseline to see both replays side by side, and each row beside its baseline.")

rows = replay.compare_rows(store, shown, baseline, prices)
table = pd.DataFrame(rows)
for column in ("cost", "baseline cost"):
    if column in table:
        table[column] = [usage.money(c) for c in table[column]]
# Each measure beside its baseline, the numbers first so they read without scrolling sideways; the
# outputs last (their differences are in the diffs below).
pairs = ["status", "tokens", "cost", "latency ms", "output"]
order = ["#", "input", *(c for p in pairs for c in (p, f"baseline {p}")), "similarity"]
order.insert(order.index("output"), order.pop(order.index("similarity")))
small = {c: st.column_config.Column(width="small") for c in order if c not in ("input", "output", "baseline output")}
for p in pairs:  # "tokens | baseline": the pair reads as one, and narrow columns keep their headers
    small[f"baseline {p}"] = st.column_config.Column(
        "baseline", width=None if p == "output" else "small", help=f"The baseline replay's {p}"
    )
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="ts_rows",
    column_order=[c for c in order if c in table],
    column_config={**small, "input": st.column_config.TextColumn(width="medium")},
)
st.download_button(
    "Comparison as CSV" if baseline else "Results as CSV",
    data=lambda: export.replay_csv(store, shown, baseline, prices),
    file_name=f"replay-{shown}" + (f"-vs-{baseline}" if baseline else "") + ".csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="ts_export",
)
for row in rows:
    if row["error"]:
        st.error(f"#{row['#']}: {markup.literal(row['error'])}", icon=":material/error:")
    if baseline and row.get("diff"):
        with st.expander(f"#{row['#']} changed (similarity {row['similarity']:.2f})"):
            st.code(row["diff"], language="diff")
