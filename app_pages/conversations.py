"""Conversations: every thread in the log; search, filter, read one with its trace, resume, export, delete."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

from app_pages._chat import history, trace_dialog
from app_pages._common import assistant_names, current, guarded_write, rename_typed
from playground import export, markup, replay, usage
from playground.store import LISTED

conn = current()
store = conn.store
ss = st.session_state
tz = st.context.timezone

st.title("Conversations")
for kind, text in ss.pop("conv_notice", None) or []:
    (st.error if kind == "error" else st.success)(text, icon=":material/info:")
query = st.text_input("Search messages", key="conv_search", placeholder="Words from any message, e.g. refund policy")

assistants = store.list_assistants(include_archived=True)
names = assistant_names(assistants, store)
filters = st.columns(4)
assistant_id = filters[0].selectbox(
    "Assistant", [None, *names], format_func=lambda i: "All" if i is None else names[i], key="conv_assistant"
)
versions = store.list_versions(assistant_id) if assistant_id else []
version_id = filters[1].selectbox(
    "Version",
    [None, *[v.id for v in versions]],
    format_func=lambda i: "All" if i is None else f"v{next(v.number for v in versions if v.id == i)}",
    key="conv_version",
    disabled=not assistant_id,
    placeholder="All",
)
models = store.models()
model = filters[2].selectbox("Model", [None, *models], format_func=lambda m: m or "All", key="conv_model")
days = filters[3].date_input("Active between", value=(), key="conv_days", help="Days in your browser's time zone.")
made = st.toggle(
    "Show threads made by replays, compares and evaluations",
    key="conv_made",
    help="Off: only the threads you chatted in (the Playground's list). Continued in the Playground, a "
    "compare or replay thread becomes one of those.",
)

since = until = None
if isinstance(days, tuple) and len(days) == 2:
    since, until = usage.day_bounds(days[0], days[1], tz)

if ss.get("confirm_delete") is not None and store.get_thread(ss.confirm_delete) is None:
    ss.pop("confirm_delete")  # deleted elsewhere while its confirmation was open
    st.info("The conversation you were deleting is no longer in the log.", icon=":material/info:")

searching = bool(query.strip())
criteria = {
    "query": query if searching else None,
    "assistant_id": assistant_id,
    "version_id": version_id,
    "model": model,
    "since": since,
    "until": until,
    "kinds": None if made else ("chat",),
}
# Search and filters run together in SQL, over every thread, so a count is the true one.
matching = store.conversation_ids(**criteria)
threads = store.conversations(thread_ids=matching[:LISTED], limit=LISTED, kinds=criteria["kinds"])
prices = usage.current_prices()

if searching:
    st.caption(
        (f"{len(matching):,} conversations match" if len(matching) != 1 else "1 conversation matches")
        + f" “{markup.literal(query.strip())}”"
        + (f"; showing the newest {len(threads):,}." if len(threads) < len(matching) else ".")
    )
    for h in store.search(query, thread_ids=[t["id"] for t in threads[:20]]):
        title = markup.literal(h["title"] or f"Thread #{h['thread_id']}")
        # The snippet is message text with ** around the hits: markdown, so images are made text.
        st.markdown(f"**{title}** · {h['role']} · {markup.text(h['snippet'])}")
elif len(threads) < len(matching):
    st.caption(f"Showing the newest {len(threads):,} of {len(matching):,} conversations.")
if not threads:
    st.info("No conversations match." if (searching or assistant_id or model or since) else "No conversations yet.")
    if not made:
        st.caption("Threads made by replays, compares and evaluations are hidden: the switch above shows them.")
    st.stop()

spent = [usage.tally(t["usage_by_model"], prices) for t in threads]
table = pd.DataFrame(
    {
        "thread": [t["id"] for t in threads],
        "title": [t["title"] or "(untitled)" for t in threads],
        "assistant": [t["assistant"] for t in threads],
        "versions": [", ".join(f"v{n}" for n in t["versions"]) for t in threads],
        "turns": [t["turns"] for t in threads],
        # Runs whose usage the server never reported are counted apart, never as 0 tokens.
        "tokens": pd.array([s.tokens_or_none for s in spent], dtype="Int64"),
        "usage unknown": [s.unknown_runs for s in spent],
        "est. cost": [s.cost_text for s in spent],
        "started": usage.local_times([t["started"] for t in threads], tz),
        "last activity": usage.local_times([t["last_activity"] for t in threads], tz),
    }
)
if made:  # what made each thread: chat (yours), replay, compare or eval
    table.insert(2, "made by", [t["kind"] for t in threads])
# A selection belongs to the rows it was made on: new criteria start with none.
if ss.get("conv_table_criteria") != criteria:
    ss.pop("conv_table", None)
    ss.pop("conv_ts_saved", None)
    ss.conv_table_criteria = criteria
when = st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="conv_table",
    on_select="rerun",
    selection_mode="multi-row",
    column_config={
        "started": when,
        "last activity": when,
        "thread": st.column_config.NumberColumn(format="%d"),
        "usage unknown": st.column_config.NumberColumn(help=usage.UNKNOWN_HELP),
    },
)
rows = [r for r in picked.selection.rows if r < len(threads)] if picked else []
selected = [threads[r]["id"] for r in rows]
scope = selected or matching
scope_text = (
    f"the {len(selected)} selected conversation{'s' if len(selected) != 1 else ''}"
    if selected
    else f"all {len(matching):,} conversation{'s' if len(matching) != 1 else ''} that match"
)

exports = st.columns([1, 1, 1, 1.4], vertical_alignment="center")
# Read now, in the script run: the button's data is made later, on click, outside it, where the
# session state is not this session's (reading it there was why the switch did nothing).
with_metadata = exports[3].toggle(
    "Metadata in JSONL",
    key="conv_jsonl_meta",
    help="Adds a `metadata` object (thread, title, assistant, versions, model, created time, placed "
    "messages, hosted tools left out) to each line. Leave it off for fine-tuning, which refuses keys "
    "other than `messages`, `tools` and `parallel_tool_calls`.",
)
exports[0].download_button(
    "JSONL (chat format)",
    data=lambda: export.conversation_jsonl(store, scope, metadata=with_metadata),
    file_name="conversations.jsonl",
    mime="application/jsonl",
    icon=":material/download:",
    on_click="ignore",
    key="export_jsonl",
)
exports[1].download_button(
    "CSV", data=lambda: export.conversation_csv(store, scope, prices=prices), file_name="conversations.csv",
    mime="text/csv",
    icon=":material/download:", on_click="ignore", key="export_csv",
)  # fmt: skip
exports[2].download_button(
    "Markdown", data=lambda: export.conversation_markdown(store, scope), file_name="conversations.md",
    mime="text/markdown", icon=":material/download:", on_click="ignore", key="export_md",
)  # fmt: skip
st.caption(
    f"Exports and test sets use {scope_text}"
    + ("." if selected else " (select rows in the table to narrow).")
    + " JSONL keeps complete exchanges only, with function calls and their outputs, one line per setup"
    " of instructions and functions, for fine-tuning or evals. CSV gives each reply's tokens, cost and latency."
)

with st.expander("Save as test set", icon=":material/playlist_add:"):
    st.caption(f"The user turns of {scope_text}, to replay on any version from the Test sets page.")
    name = st.text_input("Name", key="conv_ts_name", placeholder="Refund questions")
    in_order = st.toggle("Replay each conversation in order, on a thread of its own", True, key="conv_ts_mode")
    if st.button("Save test set", key="conv_ts_save", icon=":material/save:"):
        inputs, sources = replay.from_threads(store, scope)
        problems = replay.check(name, inputs)
        for p in problems:
            st.error(markup.literal(p), icon=":material/error:")
        if not problems:
            mode = "conversation" if in_order else "separate"
            ss.ts_pick = replay.save(store, name, inputs, mode=mode, sources=sources)
            ss.conv_ts_saved = (
                f"Saved “{markup.literal(name.strip())}”: {len(inputs)} inputs from {len(set(sources))} conversations."
            )
    if ss.get("conv_ts_saved"):
        st.success(ss.conv_ts_saved, icon=":material/check:")
        if st.button("Open in Test sets", key="conv_ts_open", icon=":material/open_in_new:"):
            ss.pop("conv_ts_saved", None)
            st.switch_page("app_pages/test_sets.py")

st.divider()
ids = [t["id"] for t in threads]
titles = {t["id"]: f"#{t['id']} · {t['title'] or '(untitled)'} · {t['assistant']}" for t in threads}
if selected and ss.get("conv_open") not in selected:
    ss.conv_open = selected[0]  # open what was just selected
open_id = st.selectbox("Open", ids, format_func=titles.get, key="conv_open")
thread = store.get_thread(open_id)
if thread is None:
    st.info("This conversation is not in the log any more.")
    st.stop()


def ask_delete(thread_id: int) -> None:
    ss.confirm_delete = thread_id


def cancel_delete() -> None:
    ss.pop("confirm_delete", None)


def rename(thread_id: int) -> None:
    try:
        problem = rename_typed(f"conv_title.{thread_id}", thread_id)
    except LookupError:
        ss.conv_notice = [("error", "That conversation is no longer in the log: it was deleted elsewhere.")]
        return
    if problem:
        ss.conv_rename_problem = (thread_id, problem)


actions = st.columns(3)
if actions[0].button("Resume in playground", key="conv_resume", icon=":material/chat:", width="stretch"):
    if thread.kind != "chat":  # continued by hand, a made thread joins the Playground's list
        with contextlib.suppress(LookupError):  # deleted this instant: the Playground starts a new thread
            guarded_write(store.set_thread_kind, thread.id, "chat")
    ss.assistant_id = thread.assistant_id
    ss.thread_id = thread.id
    ss.loaded_assistant = None  # reload the panel for this assistant, keeping this thread
    ss.resume_thread = thread.id
    st.switch_page("app_pages/chat.py")
actions[1].button(
    "Delete…", key="conv_delete", icon=":material/delete:", width="stretch", on_click=ask_delete, args=(thread.id,)
)
with actions[2].popover("Rename…", icon=":material/edit:", width="stretch"):
    title_key = f"conv_title.{thread.id}"
    if title_key not in ss or ss[title_key] == ss.get(f"{title_key}.base"):  # untouched: follow the log
        ss[title_key] = ss[f"{title_key}.base"] = thread.title
    with st.form("conv_rename_form", border=False):
        st.text_input(
            "Title",
            key=title_key,
            placeholder="Named from its first message",
            help=f"At most {store.MAX_TITLE} characters. Leave it empty to name it from its first message.",
        )
        if (problem := ss.pop("conv_rename_problem", None)) and problem[0] == thread.id:
            st.error(markup.literal(problem[1]), icon=":material/error:")
        st.form_submit_button(
            "Save", key="conv_rename", type="primary", disabled=store.read_only, on_click=rename, args=(thread.id,)
        )


@st.dialog("Delete this conversation?", on_dismiss=cancel_delete)
def confirm_delete(thread_id: int, title: str) -> None:
    st.write(f"{title} and everything logged under it will be removed from the log.")
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key="dlg_delete_yes"):
        cancel_delete()
        try:
            store.delete_thread(thread_id)
        except LookupError:
            ss.conv_notice = [("error", f"{title} is no longer in the log: it was deleted elsewhere.")]
        else:
            ss.conv_notice = [("success", f"Deleted {title}.")]
        st.rerun()
    if no.button("Keep it", key="dlg_delete_no"):
        cancel_delete()
        st.rerun()


# The confirmation names one thread: if another is open now (a search or filter changed the list),
# it is stale and is dropped rather than shown for, or applied to, the wrong thread.
if ss.get("confirm_delete") is not None:
    if ss.confirm_delete == thread.id:
        confirm_delete(thread.id, markup.literal(titles[thread.id]))  # drawn as markdown in the dialog
    else:
        cancel_delete()
if ss.get("trace_run"):
    trace_dialog(store, ss.trace_run, conn.secrets)

with st.container(border=True, key="conv_view"):
    st.caption(
        f"Read-only · thread #{thread.id}"
        + (f" · {markup.code(thread.conversation_id)}" if thread.conversation_id else "")
    )
    history(store, thread.id)
