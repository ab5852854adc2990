"""Whose assistant a page shows (issue 15, item 2): the pages' side of the store's one ownership rule.

Signed in, a person may open, chat with and clone an assistant someone else shared with everyone let in,
and only its owner (or an admin) changes it: its draft, versions, notes, name, sharing and archiving.
The store refuses the rest (LookupError); the pages use `mine` to draw only what the person may do.
In open and password modes every assistant a session sees is its own, so nothing here changes them.
Not a page: the leading underscore keeps it out of the navigation.
"""

from __future__ import annotations

import streamlit as st

from playground import access, markup
from playground.store import Store


def signed_in() -> bool:
    """Whether a person is signed in on this run (sign-in mode: the gate put their email there)."""
    return bool(st.session_state.get(access.PERSON_STATE))


def mine(store: Store, owner: str | None) -> bool:
    """Whether this session may change an assistant whose owner is `owner`: its own, or any, for an admin."""
    return store.admin or owner == store.owner


def shared_by(owner: str) -> str:
    """ "shared by <owner>" as plain text (selectbox options, tables: nothing there is markdown)."""
    return f"shared by {owner}"


def whose(store: Store, assistant: dict) -> str:
    """What a picker adds to the name of someone else's assistant (a `list_assistants` row), as plain
    text: " · shared by <owner>", or for an admin one not shared " · <owner>'s"; "" for one's own."""
    if assistant["owner"] == store.owner:
        return ""
    return f" · {shared_by(assistant['owner'])}" if assistant["shared"] else f" · {assistant['owner']}'s"


def read_only_line(owner: str) -> str:
    """The one line above someone else's assistant, as markdown (an email is data: drawn literally)."""
    return f"Shared by {markup.literal(owner)} — clone it to change it."
