"""Assistants: every assistant in the log, with model, versions and last use; open one or start anew."""

from __future__ import annotations

import streamlit as st

from pages._common import connection, connection_box
from playground import editor

conn = connection()
store = conn.store
connection_box(conn)


def open_in_playground(assistant_id: int) -> None:
    st.session_state.assistant_id = assistant_id
    st.switch_page("pages/playground.py")


st.title("Assistants")
st.caption("Each assistant is a versioned configuration kept in your log. Open one to edit it and talk to it.")
if st.button("New assistant", type="primary", icon=":material/add:"):
    open_in_playground(store.create_assistant().id)

assistants = store.list_assistants()
if not assistants:
    st.info("No assistants yet. Create one to start.")
tz = st.context.timezone
for a in assistants:
    with st.container(border=True, key=f"assistant_{a['id']}"):
        name_col, meta_col, open_col = st.columns([3, 4, 1.3], vertical_alignment="center")
        name_col.markdown(f"**{a['name'] or 'Untitled assistant #' + str(a['id'])}**")
        last = editor.clock(a["last_used"], tz) if a["last_used"] else "never"
        versions = f"{a['versions']} version{'s' if a['versions'] != 1 else ''}" if a["versions"] else "not created"
        meta_col.caption(f"`{a['model'] or '—'}` · {versions} · {a['threads']} threads · last used {last}")
        if open_col.button("Open", key=f"open_{a['id']}", icon=":material/open_in_new:"):
            open_in_playground(a["id"])
