"""The chat's "Place a message" box: put a user or assistant message into the thread without running a
turn, to set up a situation. It is logged like any other message, marked placed, and sent upstream
with the next turn (`Store.place_message`, `playground.placed`). Layout and wiring only."""

from __future__ import annotations

import streamlit as st

from app_pages._common import Connection, guarded_write
from playground import markup

ss = st.session_state

ROLES = {"user": "User", "assistant": "Assistant"}
TEXT_KEY = "place.text"
ROLE_KEY = "place.role"
PROBLEM_KEY = "place.problem"


def place_box(conn: Connection, *, writing: bool) -> None:
    """A popover by the chat input: role, text and Place. Closed to a thread that cannot take a message
    now (a reply being written, function calls waiting) and to a read-only log, with the reason.
    `writing`: the chat has found a reply of this thread being written (it looks anyway)."""
    store = conn.store
    thread_id = ss.get("thread_id")
    reason = None
    if store.read_only:
        reason = "The log is read-only: nothing can be placed."
    elif writing:
        reason = "A reply is being written: place the message once it has ended."
    elif thread_id and store.pending_run(thread_id) is not None:
        reason = "Answer the function calls first."
    with st.popover(
        "Place a message",
        icon=":material/playlist_add:",
        disabled=reason is not None,
        help=reason or "Add a user or assistant message to the thread without running the assistant.",
        key="place_box",
    ):
        st.caption(
            "Sets up a situation: the message is kept in the thread, marked as placed, and sent with the "
            "next turn. A placed assistant reply is never counted as the model's (exports mark it)."
        )
        st.radio("From", list(ROLES), format_func=ROLES.get, key=ROLE_KEY, horizontal=True)
        st.text_area("Message to place", key=TEXT_KEY, height=110, on_change=_clear_problem)
        if problem := ss.get(PROBLEM_KEY):
            st.error(markup.literal(problem), icon=":material/error:")
        st.button("Place", key="place_send", type="primary", icon=":material/playlist_add:", on_click=_place)


def _place() -> None:
    """Callback: validate, create the thread when there is none yet (as the first send does), place."""
    ss.pop(PROBLEM_KEY, None)
    text = ss.get(TEXT_KEY) or ""
    role = ss.get(ROLE_KEY) or "user"
    if not text.strip():
        ss[PROBLEM_KEY] = "Type the message to place."
        return
    store = ss.conn.store

    def write() -> int:
        thread_id = ss.get("thread_id") or store.create_thread(ss.assistant_id).id
        ss.thread_id = thread_id  # the page puts it in the address, and the sidebar lists it
        return store.place_message(thread_id, role, text)

    try:
        # A log that refuses is said at the top of the page; the text stays in the box.
        placed_id = guarded_write(write)
    except (ValueError, LookupError) as exc:  # the thread cannot take a message now: one sentence
        ss[PROBLEM_KEY] = str(exc)
        return
    if placed_id is not None:
        ss[TEXT_KEY] = ""  # placed: the box is ready for the next one


def _clear_problem() -> None:
    ss.pop(PROBLEM_KEY, None)
