"""What every page shares: the connection (key, base URL, store) and the sidebar's connection box.

Not a page: the leading underscore keeps it out of the navigation.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from playground import settings
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client, mask, owner_for, resolve_key
from playground.errors import describe
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
    key = resolve_key(st.session_state.get("api_key"), _secrets())
    return Connection(key, settings.base_url(), Store(settings.db_path(), owner_for(key)))


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _models(fingerprint: str, base_url: str | None, _key: ApiKey) -> list[str]:
    # Cached per key fingerprint and base URL (both in the cache key); `_key` is only the means.
    return ResponsesBackend(make_client(_key, base_url)).list_models()


def model_options(conn: Connection) -> tuple[list[str], str | None]:
    """The live model list, or the fallback list and the reason the live one failed."""
    if conn.key is None:
        return list(settings.FALLBACK_MODELS), "Add an API key to load the live model list."
    try:
        return _models(conn.key.fingerprint, conn.base_url, conn.key), None
    except Exception as exc:
        return list(settings.FALLBACK_MODELS), describe(exc).message


def connection_box(conn: Connection) -> None:
    with st.sidebar.expander("Connection", icon=":material/key:", expanded=conn.key is None):
        st.text_input(
            "OpenAI API key",
            type="password",
            key="api_key",
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
            try:
                count = len(conn.backend().list_models())
                st.success(f"Connected: {count} models available.")
            except Exception as exc:
                st.error(describe(exc).message)


def setup_panel() -> None:
    st.info(
        "**Connect an API key to chat.** You can shape the assistant on the right already; to talk to it, "
        "type a key in the sidebar's *Connection* box, set `OPENAI_API_KEY`, or add it to "
        "`.streamlit/secrets.toml`. To try the app without a key, start the local server "
        "(see the README) and set `OPENAI_BASE_URL`.",
        icon=":material/key:",
    )
