"""Compare: one input to two versions (or two assistants) at once, both replies streaming side by side."""

from __future__ import annotations

import time

import streamlit as st

from app_pages._common import assistant_names, current, guarded_write, setup_panel
from playground import compare, markup, usage
from playground.turn import TextDelta, ToolCall, TurnDone

conn = current()
store = conn.store
ss = st.session_state

st.title("Compare")
if (last := ss.get("cmp_last")) and (not isinstance(last, dict) or last.get("owner") != store.owner):
    ss.pop("cmp_last", None)  # from before the key changed: another log's ids, never looked up in this one
st.caption(
    "Send one message to two versions at once. Each side starts its own thread; continuing one in the "
    "Playground makes the version it ran current again, so the thread goes on with the same configuration."
)
assistants = [a for a in store.list_assistants(include_archived=True) if a["versions"]]
if not assistants:
    st.info("Save at least one version of an assistant first (Create in the Playground).")
    st.stop()
names = assistant_names(assistants, store)
ids = list(names)
default = ss.get("assistant_id") if ss.get("assistant_id") in names else ids[0]


def side_picker(col, label: str, key: str, newest: int):
    with col:
        st.markdown(f"**{label}**")
        assistant_id = st.selectbox("Assistant", ids, index=ids.index(default), format_func=names.get, key=f"{key}_a")
        versions = store.list_versions(assistant_id)
        picked = st.selectbox(
            "Version",
            versions,
            index=min(newest, len(versions) - 1),
            format_func=lambda v: f"v{v.number} · {v.config.model}" + (f" · {v.note}" if v.note else ""),
            key=f"{key}_v",
        )
        return picked


left, right = st.columns(2)
version_a = side_picker(left, "A", "cmp_left", 1)
version_b = side_picker(right, "B", "cmp_right", 0)
if conn.key is None:
    setup_panel()
    st.stop()

text = st.text_area("Message", key="cmp_text", placeholder="The same message goes to both sides.")
if st.button("Send to both", type="primary", key="cmp_send", icon=":material/compare_arrows:"):
    if not text.strip():
        st.error("Type a message first.", icon=":material/error:")
    else:
        turns = compare.start(store, conn.backend, [version_a, version_b], text, secrets=conn.secrets)
        # Kept with the owner it belongs to: after a key change these ids mean nothing (or someone else's).
        ss.cmp_last = {"owner": store.owner, "sides": [(t.thread.id, t.run_id) for t in turns]}
        cols = st.columns(2)
        boxes = [c.empty() for c in cols]
        texts = ["", ""]
        for box in boxes:
            box.caption(":material/more_horiz: typing…")
        drawn = 0.0
        for side, event in compare.interleave(turns):
            if isinstance(event, TextDelta):
                texts[side] += event.text
            elif isinstance(event, ToolCall):
                texts[side] += f"\n\n{markup.code(event.name)} called — continue in the Playground to answer it."
            if isinstance(event, TurnDone) or time.monotonic() - drawn > 0.05:  # ~20 redraws a second
                for box, t in zip(boxes, texts, strict=True):
                    if t:
                        box.markdown(markup.text(t))  # the whole text is redrawn anyway: check it all
                drawn = time.monotonic()
        st.rerun()


def continue_side(version_id: int, thread_id: int) -> None:
    version = store.get_version(version_id)
    if version is None:
        ss.cmp_problem = "That version is not in your log any more."
        return
    try:
        compare.continue_on(store, version)
    except ValueError as exc:
        ss.cmp_problem = str(exc)
        return
    try:  # continued by hand, the compare's thread joins the Playground's thread list
        store.set_thread_kind(thread_id, "chat")
    except LookupError:
        ss.cmp_problem = "That thread is not in your log any more."
        return
    ss.assistant_id = version.assistant_id
    ss.loaded_assistant = None  # reload the panel from the draft, which is now this version
    ss.resume_thread = thread_id
    ss.cmp_switch = True


last = ss.get("cmp_last")
if ss.pop("cmp_switch", False):
    st.switch_page("app_pages/chat.py")
if problem := ss.pop("cmp_problem", None):
    st.error(markup.literal(problem), icon=":material/error:")
if last:
    prices = usage.current_prices()
    cols = st.columns(2)
    for col, (thread_id, run_id), label in zip(cols, last["sides"], "AB", strict=True):
        run = store.get_run(run_id)
        ran = store.get_version(run.version_id) if run and run.version_id else None
        if run is None or ran is None:
            continue  # deleted since (or not this owner's): nothing to show
        reply = next((m for m in store.list_messages(thread_id) if m.run_id == run_id and m.role == "assistant"), None)
        with col, st.container(border=True, key=f"cmp_result_{label}"):
            name = markup.literal(names.get(ran.assistant_id, ""))
            st.markdown(f"**{label}** · {name} v{ran.number} · {markup.code(run.model)}")
            st.markdown(markup.text(reply.content) if reply else "*(no text)*")
            if run.error:
                st.error(markup.literal(run.error), icon=":material/error:")
            cost = usage.run_cost(run.model, run.input_tokens, run.output_tokens, prices)  # never $0 for unknown
            tokens = f"{run.total_tokens:,} tokens ({cost})" if run.total_tokens is not None else "tokens unknown"
            st.caption(
                f"{run.status} · {markup.literal(tokens)} · first token "
                f"{(run.ttft_ms or 0):,.0f} ms · total {(run.latency_ms or 0):,.0f} ms"
            )
            st.button(
                compare.continue_label(store, ran),
                key=f"cmp_continue_{label}",
                icon=":material/chat:",
                on_click=guarded_write,  # a log that refuses the restore says so, no traceback
                args=(continue_side, ran.id, thread_id),
                help="Opens this thread in the Playground with this version as the configuration; an older "
                "version is restored as a new one first (history is kept).",
            )
