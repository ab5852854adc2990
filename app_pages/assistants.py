"""Assistants: every assistant in the log with versions, threads, turns, tokens, cost; open, clone, archive."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._common import current, new_assistant_config
from playground import export, legacy, markup, usage
from playground.assistant import display_name

conn = current()
store = conn.store
ss = st.session_state


def open_in_playground(assistant_id: int) -> None:
    ss.assistant_id = assistant_id
    st.switch_page("app_pages/chat.py")


st.title("Assistants")
if toast := ss.pop("assistants_toast", None):
    st.toast(toast, icon=":material/content_copy:")
st.caption("Each assistant is a versioned configuration kept in your log. Open one to edit it and talk to it.")
top = st.columns([2, 2, 1.2], vertical_alignment="bottom")
wanted = top[0].text_input("Filter by name", key="assistants_filter", placeholder="Type part of a name")
archived = top[1].toggle("Show archived", key="assistants_archived")
if top[2].button("New assistant", type="primary", icon=":material/add:", width="stretch"):
    open_in_playground(store.create_assistant(new_assistant_config(conn)).id)


def import_text(text: str) -> list[tuple[bool, str, list[str]]]:
    """(imported?, headline, notes) per assistant, or one problem sentence."""
    if not text.strip():
        return [(False, "Paste or upload a JSON file first.", [])]
    try:
        if export.is_version_document(text):
            config = export.version_from_json(text)
            _, version = store.create_assistant_from(config, note="imported from a version file")
            if version is None:
                return [(True, f"Imported “{config.name}” as a draft: fix the marked fields, then save a version.", [])]
            return [(True, f"Imported “{config.name}” as v1.", [])]
        results = legacy.import_into(store, text)
    except ValueError as exc:
        return [(False, str(exc), [])]
    return [
        (True, f"“{r.name or 'Untitled'}”: " + (f"v{r.version_number}" if r.version_number else "draft only"), r.notes)
        for r in results
    ]


with st.expander("Import", icon=":material/upload:"):
    st.caption(
        "Paste or upload what the old Assistants API returned (`assistants.retrieve` or `assistants.list`), "
        "or a version exported from here. What maps becomes a new assistant; what does not is listed."
    )
    uploaded = st.file_uploader("JSON file", type=["json"], key="import_file")
    pasted = st.text_area("or paste JSON", key="import_text", height=120)
    if st.button("Import", key="import_go", icon=":material/upload:"):
        text = uploaded.getvalue().decode("utf-8", errors="replace") if uploaded else pasted
        ss.import_results = import_text(text)
for imported, headline, notes in ss.pop("import_results", None) or []:
    if imported:
        st.success(markup.literal(headline), icon=":material/upload:")
    else:
        st.error(markup.literal(headline), icon=":material/error:")
    for note in notes:
        st.caption(f"• {markup.literal(note)}")

assistants = [
    a for a in store.list_assistants(include_archived=archived) if wanted.strip().lower() in (a["name"] or "").lower()
]
if not assistants:
    st.info("No assistants yet. Create one to start." if not wanted else "No assistant matches that name.")
    st.stop()

prices = usage.current_prices()
totals = store.usage_by_assistant()
tz = st.context.timezone
rows = []
for a in assistants:
    stats = totals.get(a["id"])
    spent = usage.tally(stats["usage_by_model"], prices) if stats else usage.Tally()
    rows.append(
        {
            "name": display_name(a["name"], a["id"]),
            "model": a["model"] or "—",
            "versions": a["versions"],
            "threads": a["threads"],
            "turns": spent.runs,
            # Runs whose usage the server never reported are counted apart, never as 0 tokens.
            "tokens": spent.tokens_or_none,
            "usage unknown": spent.unknown_runs,
            "est. cost": spent.cost_text,
            "last used": a["last_used"],
            "archived": bool(a["archived_at"]),
        }
    )
table = pd.DataFrame(rows)
table["tokens"] = table["tokens"].astype("Int64")  # empty, not 0, when no turn's usage is known
table["last used"] = usage.local_times(table["last used"], tz)  # a time, so the column sorts by time
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "last used": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm", help="Empty: never"),
        "tokens": st.column_config.NumberColumn(help="Of the turns whose usage the server reported"),
        "usage unknown": st.column_config.NumberColumn(help=usage.UNKNOWN_HELP),
    },
)

ids = [a["id"] for a in assistants]
names = {a["id"]: rows[i]["name"] for i, a in enumerate(assistants)}
picked = st.selectbox("Assistant", ids, format_func=names.get, key="assistants_pick")
buttons = st.columns(4)
if buttons[0].button("Open in playground", key=f"open_{picked}", icon=":material/open_in_new:", width="stretch"):
    open_in_playground(picked)
if buttons[1].button("Versions", key=f"versions_{picked}", icon=":material/history:", width="stretch"):
    ss.versions_assistant = picked
    st.switch_page("app_pages/versions.py")
if buttons[2].button("Clone", key=f"clone_{picked}", icon=":material/content_copy:", width="stretch"):
    clone = store.clone_assistant(picked)
    ss.assistants_toast = f"Cloned as “{markup.literal(clone.name)}”"  # shown by the next run (see versions.py)
    st.rerun()
is_archived = next(a["archived_at"] for a in assistants if a["id"] == picked) is not None
if buttons[3].button(
    "Unarchive" if is_archived else "Archive",
    key=f"archive_{picked}",
    icon=":material/unarchive:" if is_archived else ":material/archive:",
    width="stretch",
):
    store.archive_assistant(picked, archived=not is_archived)
    st.rerun()
st.caption("Archiving hides an assistant from the lists; its versions and conversations stay in the log.")
