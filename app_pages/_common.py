"""What every page shares: the connection (key, base URL, store) and the sidebar's connection box.

`app.py` calls `open_connection()` on every run, before the page, so a page opened first (a reload, a
bookmark, a new tab) finds the connection set; pages read it with `current()`. Not a page: the leading
underscore keeps it out of the navigation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from playground import markup, settings
from playground.assistant import display_name
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client, mask, owner_for, resolve_key
from playground.errors import LogError, say
from playground.store import Store


@dataclass
class Connection:
    key: ApiKey | None
    base_url: str | None
    store: Store

    def backend(self) -> ResponsesBackend:
        # Built per use, never cached: a cached client would serve one user's key to all.
        assert self.key is not None
        return ResponsesBackend(make_client(self.key, self.base_url))

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.key.value,) if self.key else ()


def _secrets() -> dict:
    # st.secrets raises (not returns a default) when no secrets.toml exists.
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:
        return {}


def connection() -> Connection:
    ss = st.session_state
    key = resolve_key(ss.get("api_key"), _secrets())
    visitor = ss.setdefault("visitor", uuid.uuid4().hex[:16])
    store = Store(settings.db_path(), owner_for(key, visitor))
    if ss.get("owner") != store.owner:
        previous = ss.get("owner")
        # What the visitor built before connecting becomes theirs under the key (tried again on the next
        # run when the log cannot take it now).
        moving = previous and previous.startswith("session:")
        if moving and (store.read_only or guarded_write(store.adopt, previous) is None):
            return Connection(key, settings.base_url(), store)
        ss.owner = store.owner
    return Connection(key, settings.base_url(), store)


def open_connection() -> Connection:
    """Resolve the key, open the log and draw the sidebar's connection box; called by app.py only.

    A log that cannot be read stops the page with one sentence; one open for reading only (read-only,
    or locked by another program) says so above the page."""
    try:
        conn = connection()
    except LogError as exc:
        st.error(markup.literal(exc.problem.message), icon=":material/database:")
        st.stop()
    st.session_state.conn = conn
    connection_box(conn)
    if conn.store.problem is not None:
        st.warning(markup.literal(conn.store.problem.message), icon=":material/database:")
    if refused := st.session_state.pop("log_refused", None):
        st.error(markup.literal(refused), icon=":material/database:")
    return conn


def guarded_write(write: Callable[..., Any], *args: Any) -> Any:
    """Run a write to the log (from a callback, mostly); when the log refuses it, the next run says why
    in one sentence at the top of the page instead of a traceback, and this returns None."""
    try:
        return write(*args)
    except LogError as exc:
        st.session_state.log_refused = exc.problem.message
        return None


def current() -> Connection:
    """The connection app.py opened for this script run."""
    return st.session_state.conn


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _models(fingerprint: str, base_url: str | None, _key: ApiKey) -> tuple[dict[str, str | None], str | None]:
    """The live model list (id → announced shutdown date), or the fallback list and why.
    Failures are cached too, so a broken endpoint costs one request per 10 minutes, not one per
    rerun; "Check connection" clears it.

    Cached per key fingerprint and base URL (both in the cache key); `_key` is only the means.
    """
    try:
        return ResponsesBackend(make_client(_key, base_url, quick=True)).list_models(), None
    except Exception as exc:
        return dict.fromkeys(settings.FALLBACK_MODELS), say(exc, _key.value)


def model_options(conn: Connection) -> tuple[dict[str, str | None], str | None]:
    """Model id → its announced shutdown date, and why the list is the fallback one (if it is)."""
    if conn.key is None:
        return dict.fromkeys(settings.FALLBACK_MODELS), "Add an API key to load the live model list."
    return _models(conn.key.fingerprint, conn.base_url, conn.key)


def connection_box(conn: Connection) -> None:
    with st.sidebar.expander("Connection", icon=":material/key:", expanded=conn.key is None):
        st.text_input(
            "OpenAI API key",
            type="password",
            key="api_key",
            # Drawn by every page: without this, switching pages would drop the typed key.
            persist_state="session",
            placeholder="sk-…",
            help="Kept in this browser session only; never written to disk.",
        )
        if conn.key is None:
            st.caption("No key yet: type one above, set `OPENAI_API_KEY`, or add it to `.streamlit/secrets.toml`.")
        else:
            source = {
                "sidebar": "typed here",
                "secrets": "from secrets.toml",
                "environment": "from the environment",
            }
            st.caption(f"Key {mask(conn.key.value)} · {source[conn.key.source]}")
        st.caption(f"Base URL: `{conn.base_url or 'https://api.openai.com/v1'}`")
        if st.button("Check connection", icon=":material/network_check:", disabled=conn.key is None):
            _models.clear(conn.key.fingerprint, conn.base_url, conn.key)  # this key's entry only
            models, problem = model_options(conn)
            if problem:
                st.error(markup.literal(problem))
            else:
                st.success(f"Connected: {len(models)} models available.")


def setup_panel() -> None:
    st.info(
        "**Connect an API key to chat.** You can shape the assistant on the right already; to talk to it, "
        "type a key in the sidebar's *Connection* box, set `OPENAI_API_KEY`, or add it to "
        "`.streamlit/secrets.toml`. To try the app without a key, start the local server "
        "(see the README) and set `OPENAI_BASE_URL`.",
        icon=":material/key:",
    )


def assistant_names(assistants: list[dict]) -> dict[int, str]:
    """Assistant id → the name people see (pickers and tables)."""
    return {a["id"]: display_name(a["name"], a["id"]) for a in assistants}
