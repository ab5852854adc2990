"""Assistants: every assistant in the log with versions, threads, turns, tokens, cost; open, clone, archive.

Signed in, the list holds the person's own assistants and those others shared with everyone let in
(marked "shared by <owner>"): those they open, chat with and clone; only the owner (or an admin) shares,
archives or edits one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._common import current, guarded_write, new_assistant_config
from app_pages._sharing import mine, shared_by, signed_in, whose
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
sharing = signed_in()  # one log per key or session otherwise: nothing is shared there


def shared_text(a: dict) -> str:
    """The shared column: one's own "yes"/"no"; someone else's "shared by <owner>" (an admin sees
    others' unshared ones too: "no (<owner>)"). Plain text in a dataframe: an email is data."""
    if a["owner"] == store.owner:
        return "yes" if a["shared"] else "no"
    return shared_by(a["owner"]) if a["shared"] else f"no ({a['owner']})"


def model_of(a: dict) -> str | None:
    """The model its owner's draft names; someone else's shows its latest version's (the draft is theirs)."""
    if a["owner"] == store.owner:
        return a["model"]
    latest = store.latest_version(a["id"]) if a["versions"] else None
    return latest.config.model if latest else None


rows = []
for a in assistants:
    stats = totals.get(a["id"])
    spent = usage.tally(stats["usage_by_model"], prices) if stats else usage.Tally()
    rows.append(
        {
            "name": display_name(a["name"], a["id"]),
            **({"shared": shared_text(a)} if sharing else {}),
            "model": model_of(a) or "—",
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
by_id = {a["id"]: a for a in assistants}
for a in assistants:
    names[a["id"]] += whose(store, a)  # someone else's: shared with everyone, or (for an admin) not
picked = st.selectbox("Assistant", ids, format_func=names.get, key="assistants_pick")
row = by_id[picked]
editable = mine(store, row["owner"])  # the owner's, or an admin's: others open, chat with and clone it


def share(assistant_id: int, key: str) -> None:
    """Callback of the sharing switch; refused by the log, the switch goes back to what the log holds."""

    def write() -> bool:
        store.share_assistant(assistant_id, bool(ss.get(key)))
        return True

    if guarded_write(write) is None:
        ss[key] = not ss.get(key)


if sharing and editable:
    # Keyed by what the log says, so the switch follows a change made elsewhere (another tab, an admin).
    share_key = f"share_{picked}_{int(row['shared'])}"
    st.toggle(
        "Share with everyone let in",
        value=bool(row["shared"]),
        key=share_key,
        on_change=share,
        args=(picked, share_key),
        disabled=store.read_only,
        help="Everyone allowed into this app can then open it, chat with it and clone it; only you change it. "
        "Their conversations with it are theirs: you do not see them.",
    )
buttons = st.columns(4 if editable else 3)
if buttons[0].button("Open in playground", key=f"open_{picked}", icon=":material/open_in_new:", width="stretch"):
    open_in_playground(picked)
if buttons[1].button("Versions", key=f"versions_{picked}", icon=":material/history:", width="stretch"):
    ss.versions_assistant = picked
    st.switch_page("app_pages/versions.py")
# Someone else's is cloned from its latest version (its draft is theirs): none yet, nothing to clone.
clonable = editable or bool(row["versions"])
if buttons[2].button(
    "Clone", key=f"clone_{picked}", icon=":material/content_copy:", width="stretch", disabled=not clonable
):
    clone = store.clone_assistant(picked)
    ss.assistants_toast = f"Cloned as “{markup.literal(clone.name)}”"  # shown by the next run (see versions.py)
    st.rerun()
is_archived = row["archived_at"] is not None
if editable and buttons[3].button(
    "Unarchive" if is_archived else "Archive",
    key=f"archive_{picked}",
    icon=":material/unarchive:" if is_archived else ":material/archive:",
    width="stretch",
):
    store.archive_assistant(picked, archived=not is_archived)
    st.rerun()
if editable:
    st.caption("Archiving hides an assistant from the lists; its versions and conversations stay in the log.")
else:
    st.caption(
        f"Shared by {markup.literal(row['owner'])}: open it to chat with its latest version, or clone it to change it."
    )
