"""Versions: an assistant's history, a side-by-side diff of any two versions, and restore.

Someone else's shared assistant: its versions are seen, compared and exported; only its owner (or an
admin) notes or restores them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._common import assistant_names, current, guarded_write
from app_pages._sharing import mine, read_only_line, whose
from playground import export, markup, provider, usage, version

conn = current()
store = conn.store
ss = st.session_state

st.title("Versions")
# Shown by the run after the one that asked: a toast sent just before st.rerun() can be lost in the switch.
if toast := ss.pop("versions_toast", None):
    st.toast(toast[0], icon=toast[1])
assistants = store.list_assistants(include_archived=True)
if not assistants:
    st.info("No assistants yet.")
    st.stop()
ids = [a["id"] for a in assistants]
names = assistant_names(assistants)
owners = {a["id"]: a["owner"] for a in assistants}
for a in assistants:
    names[a["id"]] += whose(store, a)  # an option is plain text, never markdown
default = ss.get("versions_assistant") or ss.get("assistant_id")
assistant_id = st.selectbox(
    "Assistant", ids, index=ids.index(default) if default in ids else 0, format_func=names.get, key="versions_pick"
)
ss.versions_assistant = assistant_id
editable = mine(store, owners[assistant_id])  # someone else's shared assistant: see and export, not change
if not editable:
    st.info(read_only_line(owners[assistant_id]), icon=":material/group:")
rows = version.history(store, assistant_id)
if not rows:
    st.info(
        "No versions yet: press Create in the Playground to save version 1."
        if editable
        else "No versions yet: its owner has not pressed Create."
    )
    st.stop()

tz = st.context.timezone
table = pd.DataFrame(
    [{"version": f"v{r['version']}", "saved": r["saved"], "note": r["note"], "changed": r["changed"],
      "model": r["model"]} for r in rows]
)  # fmt: skip
table["saved"] = usage.local_times(table["saved"], tz)  # a time, so the column sorts by time
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"saved": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
)


def save_note(version_id: int, key: str) -> None:
    try:
        saved = store.set_version_note(version_id, ss[key])
    except (LookupError, ValueError) as exc:
        ss.note_problem = (key, str(exc))
        return
    ss.note_saved = f"Note saved on v{saved.number}."


if editable:  # a note is the owner's word on a version
    with st.expander("Notes", icon=":material/edit_note:"):
        st.caption(
            "A note says why a version exists. Notes can change at any time; a version's configuration never does."
        )
        by_id = {r["id"]: r for r in rows}
        cols = st.columns([1, 4, 1.2], vertical_alignment="bottom")
        note_for = cols[0].selectbox(
            "Version", list(by_id), format_func=lambda i: f"v{by_id[i]['version']}", key="note_pick"
        )
        note_key = f"note_text_{note_for}"
        cols[1].text_input("Note", value=by_id[note_for]["note"], key=note_key, max_chars=store.MAX_NOTE)
        cols[2].button(
            "Save note",
            key="note_save",
            icon=":material/save:",
            on_click=guarded_write,
            args=(save_note, note_for, note_key),
        )
        if (problem := ss.pop("note_problem", None)) and problem[0] == note_key:
            st.error(markup.literal(problem[1]), icon=":material/error:")
        if saved := ss.pop("note_saved", None):
            st.success(saved, icon=":material/check:")

numbers = [r["version"] for r in rows]
by_number = {r["version"]: r["id"] for r in rows}
left, right = st.columns(2)
a = left.selectbox("Compare", numbers, index=min(1, len(numbers) - 1), format_func=lambda n: f"v{n}", key="diff_a")
b = right.selectbox("with", numbers, index=0, format_func=lambda n: f"v{n}", key="diff_b")
va, vb = store.get_version(by_number[a]), store.get_version(by_number[b])
changes = version.diff(va.config, vb.config)
if changes.empty:
    st.success(f"v{a} and v{b} are the same.", icon=":material/check:")
else:
    st.subheader(f"v{a} → v{b}")
    if changes.instructions:
        st.markdown("**Instructions**")
        st.code("\n".join(changes.instructions), language="diff")
    if changes.fields:
        st.markdown("**Settings**")
        st.dataframe(
            pd.DataFrame([(c.field, c.before, c.after) for c in changes.fields], columns=["field", f"v{a}", f"v{b}"]),
            hide_index=True,
            width="stretch",
        )

exported = vb
downloads = st.columns(2)
way = conn.way() or "conversations"  # the way this server runs turns, once the first turn found it
downloads[0].download_button(
    f"v{b} as JSON", data=lambda: export.version_json(exported), file_name=f"assistant-{assistant_id}-v{b}.json",
    mime="application/json", icon=":material/download:", on_click="ignore", key="export_version_json",
)  # fmt: skip
if way == "chat" and provider.CAPABILITIES["chat"].refusal_for(exported.config):
    downloads[1].caption("No Python script: this version uses OpenAI-hosted tools, which this server lacks.")
else:
    downloads[1].download_button(
        f"v{b} as a Python script", data=lambda: export.python_snippet(exported.config, way),
        file_name=f"assistant-{assistant_id}-v{b}.py", mime="text/x-python", icon=":material/code:",
        on_click="ignore", key="export_version_py",
    )  # fmt: skip
    api = "Chat Completions" if way == "chat" else "the Responses API"
    st.caption(f"The script calls {api} with this version's configuration; it reads the key from OPENAI_API_KEY.")

st.divider()
if editable:  # restoring saves a version: the owner's (or an admin's) to do
    restore = st.selectbox("Restore", numbers, format_func=lambda n: f"v{n}", key="restore_pick")
    if st.button(f"Restore v{restore} as a new version", key="restore", icon=":material/restore:"):
        try:
            restored, created = version.restore(store, store.get_version(by_number[restore]))
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            if created:
                ss.versions_toast = (f"v{restore} is now v{restored.number}", ":material/restore:")
            else:
                ss.versions_toast = (f"v{restore} is already the current version", ":material/info:")
            st.rerun()
if st.button("Open in playground", key="versions_open", icon=":material/open_in_new:"):
    ss.assistant_id = assistant_id
    st.switch_page("app_pages/chat.py")
