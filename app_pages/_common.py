"""What every page shares: the connection (key, base URL, store) and the sidebar's connection box.

`app.py` calls `open_connection()` on every run, before the page, so a page opened first (a reload, a
bookmark, a new tab) finds the connection set; pages read it with `current()`. Not a page: the leading
underscore keeps it out of the navigation.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages._sharing import whose
from playground import access, limits, markup, provider, settings
from playground.assistant import AssistantConfig, display_name
from playground.backend import ResponsesBackend, Runner
from playground.client import ApiKey, make_client, mask, owner_for, resolve_key
from playground.errors import LogError, say
from playground.store import Store


@dataclass
class Connection:
    key: ApiKey | None
    base_url: str | None
    store: Store
    meter: limits.Meter | None = None  # the deployment's spending limits, when it pays for this session's turns

    def backend(self) -> Runner:
        """What runs this connection's turns: Responses + Conversations, or Chat Completions where the
        server keeps no conversations (provider.py). Built per use, never cached: a cached client would
        serve one user's key to all."""
        assert self.key is not None
        runner = provider.runner(make_client(self.key, self.base_url), self.base_url, self.key.fingerprint)
        if self.meter is not None:
            runner.meter = self.meter  # type: ignore[attr-defined]  # every request a turn sends is counted
        return runner

    def hosted(self) -> ResponsesBackend:
        """OpenAI's hosted files, vector stores and containers (the file editors)."""
        assert self.key is not None
        return ResponsesBackend(make_client(self.key, self.base_url))

    def way(self) -> str | None:
        """How turns run here, once known: "conversations", "chat", or None before the first turn's probe."""
        try:
            return provider.known_way(self.base_url, self.key.fingerprint if self.key else "")
        except ValueError:  # PLAYGROUND_API holds something else: the turn says so
            return None

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
    secrets = _secrets()
    key = resolve_key(ss.get("api_key"), secrets)
    visitor = ss.setdefault("visitor", uuid.uuid4().hex[:16])
    # Signed in (the gate put the admitted email there on this run), the person owns the log, whatever key.
    person = ss.get(access.PERSON_STATE)
    admin = bool(person) and bool(ss.get(access.ADMIN_STATE))  # the gate's word: listed and verified
    store = Store(settings.db_path(), owner_for(key, visitor, person), admin=admin)
    # What was made before sign-in was turned on becomes the first admin's, its assistants shared.
    first = admin and person == access.first_admin(secrets) and not ss.get("claimed_unsigned")
    if first and not store.read_only and guarded_write(store.claim_unsigned) is not None:
        ss.claimed_unsigned = True
    # Without sign-in a person is a browser session (a reload makes a new one: README says so).
    meter = limits.meter_for(
        store,
        key.source if key else None,
        person or f"session:{visitor}",
        secrets,
        keyless_server=settings.base_url() is not None and resolve_key(None, secrets) is None,
    )
    if ss.get("owner") != store.owner:
        previous = ss.get("owner")
        # What the visitor built before connecting becomes theirs under the key (tried again on the next
        # run when the log cannot take it now).
        moving = previous and previous.startswith("session:")
        if moving and (store.read_only or guarded_write(store.adopt, previous) is None):
            return Connection(key, settings.base_url(), store, meter)
        ss.owner = store.owner
    return Connection(key, settings.base_url(), store, meter)


def open_connection() -> Connection:
    """Resolve the key, open the log and draw the sidebar's connection box; called by app.py only.

    A log that cannot be read stops the page with one sentence; one open for reading only (read-only,
    or locked by another program) says so above the page."""
    try:
        conn = connection()
    except LogError as exc:
        st.error(markup.literal(exc.problem.message), icon=":material/database:")
        st.stop()
    except ValueError as exc:  # [limits] the app cannot read: closed rather than unlimited
        st.error(
            f"This deployment's spending limits cannot be read: {markup.literal(str(exc))}", icon=":material/savings:"
        )
        st.stop()
    st.session_state.conn = conn
    connection_box(conn)
    if conn.store.problem is not None:
        st.warning(markup.literal(conn.store.problem.message), icon=":material/database:")
    if refused := st.session_state.pop("log_refused", None):
        st.error(markup.literal(refused), icon=":material/database:")
    return conn


def rename_typed(key: str, thread_id: int) -> str | None:
    """Rename the thread to what is typed in the text field `key` (from its on_click); None when it
    took (the field and its `.base` then hold the title as kept), else the sentence why not. A thread
    deleted elsewhere raises LookupError: each page words that its own way."""
    try:
        renamed = st.session_state.conn.store.rename_thread(thread_id, st.session_state.get(key) or "")
    except ValueError as exc:
        return str(exc)
    except LogError as exc:
        return exc.problem.message
    st.session_state[key] = st.session_state[f"{key}.base"] = renamed.title
    return None


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


def _fallback(base_url: str | None) -> dict[str, str | None]:
    """The built-in list is OpenAI's, so only OpenAI's host gets it; another server's models are its
    own, and there the user types one."""
    return dict.fromkeys(settings.FALLBACK_MODELS) if provider.is_openai(base_url) else {}


@st.cache_data(ttl=600, show_spinner=False, max_entries=64)
def _models(fingerprint: str, base_url: str | None, _key: ApiKey) -> tuple[dict[str, str | None], str | None]:
    """The live list of chat models (id → announced shutdown date), or the fallback list and why.
    Failures are cached too, so a broken endpoint costs one request per 10 minutes, not one per
    rerun; "Check connection" clears it.

    Cached per key fingerprint and base URL (both in the cache key); `_key` is only the means.
    """
    try:
        listed = ResponsesBackend(make_client(_key, base_url, quick=True)).list_models()
    except Exception as exc:
        return _fallback(base_url), say(exc, _key.value)
    # Embedding, speech, image and moderation models are listed too, but cannot run a chat turn.
    chat = provider.chat_models(list(listed))
    if not chat:
        return _fallback(base_url), "The server lists no chat models."
    return {m: listed[m] for m in chat}, None


def model_options(conn: Connection) -> tuple[dict[str, str | None], str | None]:
    """Chat model id → its announced shutdown date, and why the list is not the live one (if it is not).
    Not the live one: OpenAI's fallback list on OpenAI's host, nothing elsewhere."""
    if conn.key is None:
        return _fallback(conn.base_url), "Add an API key to load the live model list."
    return _models(conn.key.fingerprint, conn.base_url, conn.key)


def new_assistant_config(conn: Connection) -> AssistantConfig:
    """A new assistant's config, on a model the server has. Away from OpenAI's host, a server whose live
    list lacks the default model gives its first chat model instead: a first message on Ollama must not
    ask for gpt-4.1-mini. Without a live list, the default stays and the picker says why."""
    config = AssistantConfig()
    if conn.key is None or provider.is_openai(conn.base_url):
        return config
    models, problem = model_options(conn)
    if problem is None and models and config.model not in models:
        config.model = next(iter(models))
    return config


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
        if conn.meter is not None:  # the deployment pays for these turns, within its daily limits
            # A log that cannot be read says so above the page; the count is no reason to say it twice.
            with contextlib.suppress(LogError):
                st.caption(markup.literal(limits.standing(conn.meter)), help="Limits set by whoever deployed this app.")
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


def assistant_names(assistants: list[dict], store: Store | None = None) -> dict[int, str]:
    """Assistant id → the name people see (pickers and tables); with `store`, someone else's is marked
    ("· shared by ann@example.com"), as plain text."""
    return {a["id"]: display_name(a["name"], a["id"]) + (whose(store, a) if store else "") for a in assistants}
