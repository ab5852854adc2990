"""The door of a shared deployment (playground/access.py says the model): called by app.py only.

`admit()` runs before anything else of the app is drawn; `key_banner()` on every page. Not a page: the
leading underscore keeps it out of the navigation.
"""

from __future__ import annotations

import streamlit as st

from app_pages._common import _secrets
from playground import access

_ADMITTED = "access.admitted"
_FAILURES = "access.failures"


def admit() -> access.Mode:
    """Let this browser session in, or draw only what lets it in and stop the run.

    Password mode: the password form and nothing else (no navigation, no connection box, no page) until
    the right password is typed; then this session is admitted until it ends (a reload is a new
    session: Streamlit keeps no cookie outside st.login)."""
    try:
        configured = access.read_access(_secrets())
    except access.AccessConfigError as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()
    if configured.mode is access.Mode.SIGN_IN:
        st.error(
            "Sign-in is not available in this version yet: remove `[auth]` from the secrets (and set a "
            "`password` to keep the app closed).",
            icon=":material/lock:",
        )
        st.stop()
    if configured.mode is access.Mode.OPEN or st.session_state.get(_ADMITTED):
        return configured.mode
    assert configured.password is not None
    _password_form(configured.password)
    st.stop()


def _password_form(expected: str) -> None:
    st.title("Assistant Playground")
    # clear_on_submit: the typed password is not kept in the widget after this run.
    with st.form("access.form", clear_on_submit=True, border=False):
        typed = st.text_input("Password", type="password", key="access.password")
        submitted = st.form_submit_button("Enter", icon=":material/login:")
    if not submitted or not typed:
        return
    failures = st.session_state.setdefault(_FAILURES, [])
    if access.check_password(typed, expected, failures):
        st.session_state[_ADMITTED] = True
        st.session_state.pop(_FAILURES, None)
        st.rerun()  # draw the app now, without the form
    st.error(access.WRONG_PASSWORD, icon=":material/lock:")


def _host() -> str | None:
    # The URL is what the browser shows; the Host header stands in when a client sent no URL.
    return access.host_of(st.context.url, st.context.headers.get("Host"))


def key_banner(mode: access.Mode) -> None:
    """The plain warning that anyone with this link spends the deployment's key (open mode, reached
    from another machine, a key configured)."""
    if access.shows_key_banner(mode, _host(), _secrets()):
        st.warning(
            "Anyone with this link uses this deployment's API key.",
            icon=":material/public:",
        )
